import type { PoolClient } from 'pg';
import { AlertEventSignal } from '@dustwatch/core';
import { PgDatabase } from './pg';

const CHANNEL = 'dustwatch_alert_events';
const RECONNECT_MS = 1000;

/**
 * LISTEN/NOTIFY on one channel. A notification carries nothing: listeners read the events
 * themselves, in id order, so a notification lost while the listening connection was down costs
 * only latency (the reader also looks once a second).
 */
export class PgAlertEventSignal implements AlertEventSignal {
  constructor(private readonly db: PgDatabase) {}

  async notify(): Promise<void> {
    await this.db.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, '']);
  }

  async listen(onNudge: () => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: PoolClient | null = null;
    let retry: NodeJS.Timeout | undefined;
    /** The listening connection ended or failed: drop it, try again in a second, and read once (whatever was missed). */
    const lost = (c: PoolClient, error: Error): void => {
      if (client !== c) return; // released already (stopped, or the other of error/end)
      client = null;
      c.removeAllListeners('notification');
      c.release(error);
      if (!stopped) retry = setTimeout(() => void connect(), RECONNECT_MS);
      onNudge();
    };
    const connect = async (): Promise<void> => {
      let c: PoolClient;
      try {
        c = await this.db.pool.connect();
      } catch {
        if (!stopped) retry = setTimeout(() => void connect(), RECONNECT_MS);
        return;
      }
      client = c;
      c.on('error', (error: Error) => lost(c, error));
      c.on('end', () => lost(c, new Error('the LISTEN connection ended')));
      c.on('notification', () => onNudge());
      await c.query(`LISTEN ${CHANNEL}`).catch((error: Error) => lost(c, error));
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      if (!c) return;
      c.removeAllListeners('notification');
      await c.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
      c.release();
    };
  }
}
