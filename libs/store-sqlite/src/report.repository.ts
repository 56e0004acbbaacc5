import type { ComplianceReport, PeriodKind } from '@dustwatch/reports';
import {
  REPORT_META_COLUMNS as META,
  ReportRow,
  ReportStore,
  StoredReport,
  StoredReportMeta,
  reportMetaOf as meta,
  storedReportOf as stored,
} from '@dustwatch/core';
import { QueuedDb } from './sqlite';

/** Reports as JSON, one row per version; no version is ever rewritten (a bulletin sent out stays as it was). */
export class ReportRepository implements ReportStore {
  constructor(private readonly main: QueuedDb) {}

  async latest(kind: PeriodKind, period: string): Promise<StoredReport | undefined> {
    return stored(
      this.main.db
        .prepare(`SELECT ${META}, body FROM reports WHERE kind = ? AND period = ? ORDER BY version DESC LIMIT 1`)
        .get(kind, period) as ReportRow | undefined,
    );
  }

  async version(kind: PeriodKind, period: string, version: number): Promise<StoredReport | undefined> {
    return stored(
      this.main.db
        .prepare(`SELECT ${META}, body FROM reports WHERE kind = ? AND period = ? AND version = ?`)
        .get(kind, period, version) as ReportRow | undefined,
    );
  }

  save(report: ComplianceReport, dataAsOf: number, computedBy: string): Promise<StoredReportMeta> {
    const db = this.main.db;
    return this.main.writes.run(async () =>
      meta(
        db
          .prepare(
            `INSERT INTO reports (kind, period, version, computed_at, data_as_of, computed_by, body)
             SELECT ?, ?, coalesce(max(version), 0) + 1, ?, ?, ?, ? FROM reports WHERE kind = ? AND period = ?
             RETURNING ${META}`,
          )
          .get(
            report.kind,
            report.period,
            report.computedAt,
            dataAsOf,
            computedBy,
            JSON.stringify(report),
            report.kind,
            report.period,
          ) as ReportRow,
      ),
    );
  }

  async list(kind?: PeriodKind): Promise<StoredReportMeta[]> {
    const rows = (
      kind
        ? this.main.db
            .prepare(`SELECT ${META} FROM reports WHERE kind = ? ORDER BY period DESC, version DESC`)
            .all(kind)
        : this.main.db.prepare(`SELECT ${META} FROM reports ORDER BY period DESC, kind, version DESC`).all()
    ) as ReportRow[];
    return rows.map(meta);
  }

  markSummarySent(kind: PeriodKind, period: string, version: number, at: number): Promise<void> {
    return this.main.writes.run(async () => {
      this.main.db
        .prepare('UPDATE reports SET summary_sent_at = ? WHERE kind = ? AND period = ? AND version = ?')
        .run(at, kind, period, version);
    });
  }

  noteRevisedHours(hourStarts: readonly number[], receivedAt: number): Promise<void> {
    const db = this.main.db;
    const upsert = db.prepare(
      `INSERT INTO revised_hours (hour_start, last_received_at) VALUES (?, ?)
       ON CONFLICT (hour_start) DO UPDATE SET last_received_at = max(last_received_at, excluded.last_received_at)`,
    );
    return this.main.writes.run(async () => {
      db.transaction(() => {
        for (const hour of hourStarts) upsert.run(hour, receivedAt);
      })();
    });
  }

  async revisedSince(from: number, to: number, since: number): Promise<boolean> {
    return (
      this.main.db
        .prepare(
          'SELECT 1 FROM revised_hours WHERE hour_start >= ? AND hour_start < ? AND last_received_at > ? LIMIT 1',
        )
        .get(from, to, since) !== undefined
    );
  }
}
