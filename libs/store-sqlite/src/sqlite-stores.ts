import { QuarantineLimits, StoreSet } from '@dustwatch/core';
import { AlertRepository, OutboxRepository } from './alert.repository';
import { ApiKeysRepository } from './api-keys.repository';
import { PeopleRepository } from './people.repository';
import { SqlitePresenceStore } from './presence.repository';
import { QuarantineRepository } from './quarantine.repository';
import { RegistryRepository } from './registry.repository';
import { ReportRepository } from './report.repository';
import { MAIN_MIGRATIONS, QueuedDb, openDatabase } from './sqlite';
import { WriteQueue } from '@dustwatch/core';

/** Every shared store port on one SQLite file (`<data dir>/dustwatch.db`), migrated on open. */
export async function openSqliteStores(file: string, quarantine: QuarantineLimits): Promise<StoreSet> {
  return sqliteStoresOn({ db: await openDatabase(file, MAIN_MIGRATIONS), writes: new WriteQueue() }, quarantine);
}

/** The store set on an open connection (tests that also reach into the file). */
export function sqliteStoresOn(main: QueuedDb, quarantine: QuarantineLimits): StoreSet {
  return {
    engine: 'sqlite',
    registry: new RegistryRepository(main),
    people: new PeopleRepository(main),
    apiKeys: new ApiKeysRepository(main),
    presence: new SqlitePresenceStore(main),
    quarantine: new QuarantineRepository(main, quarantine),
    alerts: new AlertRepository(main),
    outbox: new OutboxRepository(main),
    reports: new ReportRepository(main),
    ping: async () => {
      main.db.prepare('SELECT 1').get();
    },
    close: async () => {
      await main.writes.run(() => undefined); // the last queued write first
      if (main.db.open) main.db.close();
    },
  };
}
