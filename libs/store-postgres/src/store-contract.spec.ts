import { DEFAULT_QUARANTINE, StoreHarness, storeContract } from '@dustwatch/core/testing';
import { openPostgresStores } from './postgres-stores';
import { ThrowawayPostgres } from './throwaway-cluster';

let cluster: ThrowawayPostgres;
beforeAll(async () => {
  cluster = await ThrowawayPostgres.start();
});
afterAll(async () => {
  await cluster?.stop();
});

/** Every port's contract on PostgreSQL: a new database of the throwaway cluster per test. */
const postgres: StoreHarness = {
  engine: 'PostgreSQL',
  sharedByInstances: true,
  fresh: async (quarantine = DEFAULT_QUARANTINE) => {
    const url = await cluster.database();
    const stores = await openPostgresStores(url, quarantine);
    return {
      ...stores,
      reopen: (limits = quarantine) => openPostgresStores(url, limits),
      exec: async (sql) => {
        await stores.db.pool.query(sql);
      },
    };
  },
};

storeContract(postgres);
