import { join } from 'node:path';
import { IngestConfig, StoreSet } from '@dustwatch/core';
import { openPostgresStores } from '@dustwatch/store-postgres';
import { openSqliteStores } from '@dustwatch/store-sqlite';

/**
 * The shared stores the configuration names: PostgreSQL when DUSTWATCH_DATABASE_URL is set,
 * else SQLite in the data folder (the embedded default). The service and the admin CLI open
 * them the same way.
 */
export function openStores(config: IngestConfig): Promise<StoreSet> {
  const quarantine = {
    quotaBytes: config.quarantineQuotaMb * 1024 * 1024,
    retentionMs: config.quarantineRetentionDays * 86_400_000,
  };
  return config.databaseUrl
    ? openPostgresStores(config.databaseUrl, quarantine)
    : openSqliteStores(join(config.dataDir, 'dustwatch.db'), quarantine);
}
