import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { RuleSet, sampleRetentionMs } from '@dustwatch/rules';
import {
  CLOCK,
  CONFIG,
  Clock,
  DEVICE_SECRET_PEPPER,
  EVIDENCE_LOG,
  FEED_OUTBOX,
  IngestConfig,
  READINGS_STORE,
  RULE_SET,
  clustered,
} from '@dustwatch/core';
import { EVIDENCE_MIGRATIONS, SqliteEvidenceLog, loadOrCreateEvidenceKey } from './evidence-log';
import { loadOrCreatePepper } from './pepper';
import { SqliteReadingsStore } from './spool';
import { Db, SPOOL_MIGRATIONS, openDatabase } from './sqlite';

const SPOOL_DB = Symbol('SpoolDatabase');
const EVIDENCE_DB = Symbol('EvidenceDatabase');
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
      provide: EVIDENCE_DB,
      inject: [CONFIG],
      useFactory: (config: IngestConfig): Promise<Db> =>
        openDatabase(join(config.dataDir, 'evidence.db'), EVIDENCE_MIGRATIONS, config.spoolSync),
    },
    {
      provide: EVIDENCE_LOG,
      inject: [EVIDENCE_DB, CONFIG],
      useFactory: (db: Db, config: IngestConfig) => new SqliteEvidenceLog(db, loadOrCreateEvidenceKey(config.dataDir)),
    },
    {
      provide: DEVICE_SECRET_PEPPER,
      inject: [CONFIG],
      useFactory: (config: IngestConfig) => loadOrCreatePepper(config.dataDir),
    },
  ],
  exports: [DEVICE_SECRET_PEPPER, READINGS_STORE, FEED_OUTBOX, EVIDENCE_LOG],
})
export class SqliteSpoolModule implements OnApplicationShutdown {
  constructor(
    @Inject(SPOOL_DB) private readonly spool: Db,
    @Inject(EVIDENCE_DB) private readonly evidenceDb: Db,
    @Inject(EVIDENCE_LOG) private readonly evidence: SqliteEvidenceLog,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.evidence.drain();
    this.evidenceDb.close();
    this.spool.close();
  }
}
