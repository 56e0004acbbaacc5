import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import {
  ALERT_STORE,
  API_KEY_STORE,
  CONFIG,
  IngestConfig,
  LOGGER,
  LoggerFactory,
  OUTBOX_STORE,
  PEOPLE_STORE,
  PRESENCE_STORE,
  QUARANTINE_STORE,
  REGISTRY_STORE,
  REPORT_STORE,
  RULE_FEED,
  ALERT_EVENT_SIGNAL,
  STORE_SET,
  StoreSet,
} from '@dustwatch/core';
import { redactedUrl } from '@dustwatch/store-postgres';
import { openStores } from './stores';

const PORTS = {
  [REGISTRY_STORE]: 'registry',
  [PEOPLE_STORE]: 'people',
  [API_KEY_STORE]: 'apiKeys',
  [PRESENCE_STORE]: 'presence',
  [QUARANTINE_STORE]: 'quarantine',
  [ALERT_STORE]: 'alerts',
  [OUTBOX_STORE]: 'outbox',
  [REPORT_STORE]: 'reports',
} as const satisfies Record<symbol, Exclude<keyof StoreSet, 'engine' | 'close' | 'ruleFeed' | 'alertSignal'>>;
const TOKENS = Object.getOwnPropertySymbols(PORTS) as (keyof typeof PORTS)[];

/**
 * Every shared store port, from the database the configuration names (SQLite by default,
 * PostgreSQL with DUSTWATCH_DATABASE_URL). Closes it after every other component stopped (Nest
 * calls onApplicationShutdown after every beforeApplicationShutdown hook).
 */
@Global()
@Module({
  providers: [
    {
      provide: STORE_SET,
      inject: [CONFIG, LOGGER],
      useFactory: async (config: IngestConfig, loggers: LoggerFactory) => {
        const stores = await openStores(config);
        loggers.forContext('Stores').log('shared stores opened', {
          engine: stores.engine,
          where: config.databaseUrl ? redactedUrl(config.databaseUrl) : `${config.dataDir}/dustwatch.db`,
        });
        return stores;
      },
    },
    ...TOKENS.map((token) => ({ provide: token, inject: [STORE_SET], useFactory: (s: StoreSet) => s[PORTS[token]] })),
    { provide: RULE_FEED, inject: [STORE_SET], useFactory: (s: StoreSet) => s.ruleFeed ?? null },
    { provide: ALERT_EVENT_SIGNAL, inject: [STORE_SET], useFactory: (s: StoreSet) => s.alertSignal ?? null },
  ],
  exports: [STORE_SET, RULE_FEED, ALERT_EVENT_SIGNAL, ...TOKENS],
})
export class StoresModule implements OnApplicationShutdown {
  constructor(@Inject(STORE_SET) private readonly stores: StoreSet) {}

  async onApplicationShutdown(): Promise<void> {
    await this.stores.close();
  }
}
