import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { RuleSet, sampleRetentionMs } from '@dustwatch/rules';
import {
  ALERT_STORE,
  PEOPLE_STORE,
  REPORT_STORE,
  API_KEY_STORE,
  CLOCK,
  CONFIG,
  Clock,
  DEVICE_SECRET_PEPPER,
  IngestConfig,
  OUTBOX_STORE,
  PRESENCE_STORE,
  QUARANTINE_STORE,
  READINGS_STORE,
  REGISTRY_STORE,
  RULE_SET,
} from '@dustwatch/core';
import { AlertRepository, OutboxRepository } from './alert.repository';
import { ApiKeysRepository } from './api-keys.repository';
import { SqlitePresenceStore } from './presence.repository';
import { QuarantineRepository } from './quarantine.repository';
import { RegistryRepository } from './registry.repository';
import { ReportRepository } from './report.repository';
import { PeopleRepository } from './people.repository';
import { loadOrCreatePepper } from './pepper';
import { SqliteReadingsStore } from './spool';
import { Db, MAIN_MIGRATIONS, QueuedDb, SPOOL_MIGRATIONS, openDatabase } from './sqlite';
import { WriteQueue } from './write-queue';

const MAIN_DB = Symbol('MainDatabase');
const SPOOL_DB = Symbol('SpoolDatabase');
/** The journal outlives the rule windows by a minute, so a window rebuilt after a restart is whole. */
const JOURNAL_SLACK_MS = 60_000;

/**
 * Every store port, on two SQLite files in DUSTWATCH_DATA_DIR: `dustwatch.db` (registry,
 * presence, quarantine, alerts, outbox, API keys) and `spool.db` (spool, journal), so the hot
 * path's fsyncs do not queue behind the API's. Closes both after every other component stopped
 * (Nest calls onApplicationShutdown after every beforeApplicationShutdown hook).
 */
@Global()
@Module({
  providers: [
    {
      provide: MAIN_DB,
      inject: [CONFIG],
      useFactory: (config: IngestConfig): QueuedDb => ({
        db: openDatabase(join(config.dataDir, 'dustwatch.db'), MAIN_MIGRATIONS),
        writes: new WriteQueue(),
      }),
    },
    {
      provide: SPOOL_DB,
      inject: [CONFIG],
      useFactory: (config: IngestConfig) =>
        openDatabase(join(config.dataDir, 'spool.db'), SPOOL_MIGRATIONS, config.spoolSync),
    },
    {
      provide: READINGS_STORE,
      inject: [SPOOL_DB, CONFIG, RULE_SET, CLOCK],
      useFactory: (db: Db, config: IngestConfig, ruleSet: RuleSet, clock: Clock) =>
        new SqliteReadingsStore(
          db,
          config.spoolQuotaMb * 1024 * 1024,
          sampleRetentionMs(ruleSet) + JOURNAL_SLACK_MS,
          () => clock.now(),
        ),
    },
    {
      provide: DEVICE_SECRET_PEPPER,
      inject: [CONFIG],
      useFactory: (config: IngestConfig) => loadOrCreatePepper(config.dataDir),
    },
    {
      provide: QUARANTINE_STORE,
      inject: [MAIN_DB, CONFIG],
      useFactory: (main: QueuedDb, config: IngestConfig) =>
        new QuarantineRepository(main, {
          quotaBytes: config.quarantineQuotaMb * 1024 * 1024,
          retentionMs: config.quarantineRetentionDays * 86_400_000,
        }),
    },
    { provide: PRESENCE_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new SqlitePresenceStore(main) },
    { provide: REGISTRY_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new RegistryRepository(main) },
    { provide: ALERT_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new AlertRepository(main) },
    { provide: OUTBOX_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new OutboxRepository(main) },
    { provide: API_KEY_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new ApiKeysRepository(main) },
    { provide: REPORT_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new ReportRepository(main) },
    { provide: PEOPLE_STORE, inject: [MAIN_DB], useFactory: (main: QueuedDb) => new PeopleRepository(main) },
  ],
  exports: [
    DEVICE_SECRET_PEPPER,
    READINGS_STORE,
    QUARANTINE_STORE,
    PRESENCE_STORE,
    REGISTRY_STORE,
    ALERT_STORE,
    OUTBOX_STORE,
    API_KEY_STORE,
    REPORT_STORE,
    PEOPLE_STORE,
  ],
})
export class SqliteStoreModule implements OnApplicationShutdown {
  constructor(
    @Inject(MAIN_DB) private readonly main: QueuedDb,
    @Inject(SPOOL_DB) private readonly spool: Db,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.main.writes.run(() => undefined); // the last queued write first
    this.main.db.close();
    this.spool.close();
  }
}
