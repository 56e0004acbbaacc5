import { Rejection, RejectionReason } from '@dustwatch/telemetry';
import { QuarantineEntry, QuarantineStore } from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

/** Refused readings, kept with their raw text (capped), device, receive time and every reason. */
export class QuarantineRepository implements QuarantineStore {
  private readonly insert;

  private readonly db: Db;

  constructor(private readonly main: QueuedDb) {
    const db = (this.db = main.db);
    this.insert = db.prepare(
      'INSERT INTO quarantine (device_id, received_at, batch_index, reasons, raw) VALUES (?, ?, ?, ?, ?)',
    );
  }

  /** Committed when the promise resolves: the PUBACK that follows may rely on it. */
  async add(deviceId: string, receivedAt: number, rejections: readonly Rejection[]): Promise<void> {
    return this.main.writes.run(async () => {
      this.db.transaction(() => {
        for (const r of rejections) this.insert.run(deviceId, receivedAt, r.index, JSON.stringify(r.reasons), r.raw);
      })();
    });
  }

  async list(filter: { deviceId?: string; limit: number; beforeId?: number }): Promise<QuarantineEntry[]> {
    const rows = this.db
      .prepare(
        `SELECT id, device_id AS deviceId, received_at AS receivedAt, batch_index AS batchIndex, reasons, raw
      FROM quarantine WHERE (@deviceId IS NULL OR device_id = @deviceId) AND (@beforeId IS NULL OR id < @beforeId)
      ORDER BY id DESC LIMIT @limit`,
      )
      .all({ deviceId: filter.deviceId ?? null, beforeId: filter.beforeId ?? null, limit: filter.limit }) as (Omit<
      QuarantineEntry,
      'reasons' | 'receivedAt'
    > & { reasons: string; receivedAt: number })[];
    return rows.map((r) => ({
      ...r,
      receivedAt: new Date(r.receivedAt).toISOString(),
      reasons: JSON.parse(r.reasons) as RejectionReason[],
    }));
  }
}
