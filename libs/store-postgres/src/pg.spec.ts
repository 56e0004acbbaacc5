import { openPostgres, redactedUrl } from './pg';
import { ThrowawayPostgres } from './throwaway-cluster';

describe('the PostgreSQL connection', () => {
  it('never shows a password in what it prints', () => {
    expect(redactedUrl('postgres://dustwatch:s3cr%40t@db.example:5432/dustwatch')).toBe(
      'postgres://dustwatch:***@db.example:5432/dustwatch',
    );
    expect(redactedUrl('postgres://dustwatch@127.0.0.1:5432/dustwatch')).toBe(
      'postgres://dustwatch@127.0.0.1:5432/dustwatch',
    );
  });

  it('says which database it could not use, and why, when nothing listens there', async () => {
    // Port 1 on loopback: nothing listens; the refusal is immediate.
    await expect(openPostgres('postgres://dustwatch:pw@127.0.0.1:1/dustwatch')).rejects.toThrow(
      /^PostgreSQL at postgres:\/\/dustwatch:\*\*\*@127\.0\.0\.1:1\/dustwatch cannot be used: connect ECONNREFUSED 127\.0\.0\.1:1$/,
    );
  });

  it('survives the server ending a connection that is checked out, and reconnects once it is back', async () => {
    const cluster = await ThrowawayPostgres.start();
    try {
      const db = await openPostgres(await cluster.database());
      // The server goes away while a connection is out of the pool, between two statements of a
      // unit of work: its `error` event must be heard (an unheard one crashes the process).
      await expect(
        db.transaction(async (client) => {
          await client.query('SELECT 1');
          const ended = new Promise<void>((resolve, reject) => {
            client.once('end', () => resolve()); // emitted after the termination notice's `error`
            setTimeout(() => reject(new Error('the connection did not end within 5 s')), 5000).unref();
          });
          await cluster.pause();
          await ended;
          await client.query('SELECT 2');
        }),
      ).rejects.toThrow();
      await expect(db.rows('SELECT 1')).rejects.toThrow();
      await cluster.resume();
      expect(await db.rows('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await db.close();
    } finally {
      await cluster.stop();
    }
  });
});
