import { openPostgres } from './pg';
import { PgPresenceStore } from './presence.store';
import { ThrowawayPostgres } from './throwaway-cluster';

const seen = (at: number) => ({
  online: true,
  lastConnectAt: at,
  lastDisconnectAt: null,
  lastSeenAt: at,
  lastStatus: null,
  lastStatusAt: null,
});

it('several instances: loadRecent returns the rows saved lately, by the database clock, not every device', async () => {
  const cluster = await ThrowawayPostgres.start();
  const db = await openPostgres(await cluster.database());
  try {
    await db.changes(
      `INSERT INTO sites (id, name, district, lat, lon, created_at, updated_at) VALUES ('S', 'S', 'D', 36, 113, 0, 0)`,
    );
    for (const id of ['d-old', 'd-new'])
      await db.changes(
        `INSERT INTO devices (id, site_id, model, kind, secret_hash, created_at, updated_at) VALUES ($1, 'S', 'M', 'site', 'h', 0, 0)`,
        [id],
      );
    const store = new PgPresenceStore(db);
    await store.save(new Map([['d-old', seen(1000)]]));
    await db.changes(`UPDATE device_status SET changed_at = changed_at - 60000 WHERE device_id = 'd-old'`);
    await store.save(new Map([['d-new', seen(2000)]]));
    expect([...(await store.loadRecent(15_000)).keys()]).toEqual(['d-new']);
    expect([...(await store.loadAll()).keys()].sort()).toEqual(['d-new', 'd-old']);
  } finally {
    await db.close();
    await cluster.stop();
  }
});
