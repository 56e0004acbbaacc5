import { QuarantineLimits, StoreSet } from '@dustwatch/core';
import { PgAlertStore, PgOutboxStore } from './alert.store';
import { PgApiKeyStore } from './api-keys.store';
import { PgPeopleStore } from './people.store';
import { PgPresenceStore } from './presence.store';
import { PgQuarantineStore } from './quarantine.store';
import { PgRegistryStore } from './registry.store';
import { PgReportStore } from './report.store';
import { PgRuleFeed } from './rule-feed.store';
import { PgAlertEventSignal } from './alert-signal';
import { PgDatabase, PgOptions, openPostgres } from './pg';

/** Every shared store port on PostgreSQL at `url`, the schema migrated first. */
export async function openPostgresStores(
  url: string,
  quarantine: QuarantineLimits,
  options: PgOptions = {},
): Promise<StoreSet & { readonly db: PgDatabase }> {
  const db = await openPostgres(url, options);
  return {
    engine: 'postgres',
    db,
    registry: new PgRegistryStore(db),
    people: new PgPeopleStore(db),
    apiKeys: new PgApiKeyStore(db),
    presence: new PgPresenceStore(db),
    quarantine: await PgQuarantineStore.open(db, quarantine),
    alerts: new PgAlertStore(db),
    outbox: new PgOutboxStore(db),
    reports: new PgReportStore(db),
    ruleFeed: new PgRuleFeed(db),
    alertSignal: new PgAlertEventSignal(db),
    ping: async () => {
      await db.pool.query('SELECT 1');
    },
    close: () => db.close(),
  };
}
