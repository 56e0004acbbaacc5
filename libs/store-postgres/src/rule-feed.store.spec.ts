import { openPostgres, PgDatabase } from './pg';
import { PgRuleFeed } from './rule-feed.store';
import { ThrowawayPostgres } from './throwaway-cluster';

const entry = (deviceId: string, ts: number) => ({ deviceId, ts, vals: `{"pm10":${ts}}`, receivedAt: ts + 1 });

describe('the shared rule feed and the rule owner lease on PostgreSQL', () => {
  let cluster: ThrowawayPostgres;
  let db: PgDatabase;
  let other: PgDatabase;

  beforeAll(async () => {
    cluster = await ThrowawayPostgres.start();
    const url = await cluster.database();
    db = await openPostgres(url);
    other = await openPostgres(url); // a second instance: its own pool
  });

  afterAll(async () => {
    await db?.close();
    await other?.close();
    await cluster?.stop();
  });

  it('keeps (device, ts) once whichever instance appends it, in seq order, with gapless order among concurrent appends', async () => {
    const a = new PgRuleFeed(db);
    const b = new PgRuleFeed(other);
    await a.append([entry('d1', 1000), entry('d1', 2000)]);
    // A redelivery that reached the other instance: ignored.
    await b.append([entry('d1', 2000), entry('d2', 1000)]);
    // Concurrent appends from both: every entry once, seqs increasing in visible order.
    await Promise.all([
      a.append(Array.from({ length: 200 }, (_, i) => entry('d3', 10_000 + i))),
      b.append(Array.from({ length: 200 }, (_, i) => entry('d4', 10_000 + i))),
    ]);
    const all = await a.after(0, 10_000);
    expect(all).toHaveLength(403);
    expect(all.slice(0, 3).map((e) => `${e.deviceId}@${e.ts}`)).toEqual(['d1@1000', 'd1@2000', 'd2@1000']);
    const seqs = all.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    // One append's entries are contiguous: the lock serialises appends, so none interleaves.
    const devices = all.slice(3).map((e) => e.deviceId);
    const firstChange = devices.findIndex((d) => d !== devices[0]);
    expect(devices.slice(firstChange).every((d) => d !== devices[0])).toBe(true);
    expect(await a.window(0, all[2].seq)).toEqual([
      { deviceId: 'd1', ts: 1000, vals: '{"pm10":1000}' },
      { deviceId: 'd1', ts: 2000, vals: '{"pm10":2000}' },
      { deviceId: 'd2', ts: 1000, vals: '{"pm10":1000}' },
    ]);
  });

  it('gives the lease to one instance at a time, keeps its cursor, and frees it when its connection dies', async () => {
    const a = new PgRuleFeed(db);
    const b = new PgRuleFeed(other);
    const lease = await a.tryLease('a');
    expect(lease).not.toBeNull();
    expect(await b.tryLease('b')).toBeNull();
    await lease!.advance(42);
    await lease!.advance(7); // never backwards
    expect(await lease!.cursor()).toBe(42);
    // The owner's backend is terminated (as when its process is killed): the lease is lost there…
    await other.rows(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted`,
      [0x72756c65],
    );
    await expect(lease!.lost).resolves.toBeInstanceOf(Error);
    // …and the next instance takes it with the cursor the first one committed.
    const next = await b.tryLease('b');
    expect(next).not.toBeNull();
    expect(await next!.cursor()).toBe(42);
    await next!.release();
    const again = await a.tryLease('a');
    expect(again).not.toBeNull();
    await again!.release();
  });
});
