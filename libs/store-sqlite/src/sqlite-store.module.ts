import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { RuleSet, sampleRetentionMs } from '@dustwatch/rules';
import {
  CLOCK,
  CONFIG,
  Clock,
  DEVICE_SECRET_PEPPER,
  FEED_OUTBOX,
  IngestConfig,
  READINGS_STORE,
  RULE_SET,
  clustered,
} from '@dustwatch/core';
import { loadOrCreatePepper } from './pepper';
import { SqliteReadingsStore } from './spool';
import { Db, SPOOL_MIGRATIONS, openDatabase } from './sqlite';

const SPOOL_DB = Symbol('SpoolDatabase');
/** The journal outlives the rule windows by a minute, so a window rebuilt after a restart is whole. */
const JOURNAL_SLACK_MS = 60_000;

/**
 * What stays on each instance's own disk whichever database holds the shared stores: the spool
 * and journal (`<data dir>/spool.db`, its own file so the hot path's fsyncs do not queue behind
 * the API's) and the device-secret pepper. Closes the spool after every other component stopped
 * (Nest calls onApplicationShutdown after every beforeApplicationShutdown hook).
 */
@Global()
@Module({
  providers: [
    {
      provide: SPOOL_DB,
      inject: [CONFIG],
      useFactory: (config: IngestConfig): Promise<Db> =>
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
          clustered(config),
        ),
    },
    { provide: FEED_OUTBOX, useExisting: READINGS_STORE },
    {
      provide: DEVICE_SECRET_PEPPER,
      inject: [CONFIG],
      useFactory: (config: IngestConfig) => loadOrCreatePepper(config.dataDir),
    },
  ],
  exports: [DEVICE_SECRET_PEPPER, READINGS_STORE, FEED_OUTBOX],
})
export class SqliteSpoolModule implements OnApplicationShutdown {
  constructor(@Inject(SPOOL_DB) private readonly spool: Db) {}

  onApplicationShutdown(): void {
    this.spool.close();
  }
}
