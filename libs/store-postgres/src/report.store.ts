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
import { PgDatabase } from './pg';

/** Reports on PostgreSQL, one row per version; no version is ever rewritten. */
export class PgReportStore implements ReportStore {
  constructor(private readonly db: PgDatabase) {}

  async latest(kind: PeriodKind, period: string): Promise<StoredReport | undefined> {
    return stored(
      await this.db.one<ReportRow>(
        `SELECT ${META}, body FROM reports WHERE kind = $1 AND period = $2 ORDER BY version DESC LIMIT 1`,
        [kind, period],
      ),
    );
  }

  async version(kind: PeriodKind, period: string, version: number): Promise<StoredReport | undefined> {
    return stored(
      await this.db.one<ReportRow>(
        `SELECT ${META}, body FROM reports WHERE kind = $1 AND period = $2 AND version = $3`,
        [kind, period, version],
      ),
    );
  }

  /** Two instances saving the same period at once take turns (a transaction lock on the period), so each gets its own version. */
  save(report: ComplianceReport, dataAsOf: number, computedBy: string): Promise<StoredReportMeta> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`report:${report.kind}:${report.period}`]);
      const { rows } = await client.query<ReportRow>(
        `INSERT INTO reports (kind, period, version, computed_at, data_as_of, computed_by, body)
         SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6 FROM reports WHERE kind = $1 AND period = $2
         RETURNING ${META}`,
        [report.kind, report.period, report.computedAt, dataAsOf, computedBy, JSON.stringify(report)],
      );
      return meta(rows[0]);
    });
  }

  async list(kind?: PeriodKind): Promise<StoredReportMeta[]> {
    const rows = kind
      ? await this.db.rows<ReportRow>(
          `SELECT ${META} FROM reports WHERE kind = $1 ORDER BY period DESC, version DESC`,
          [kind],
        )
      : await this.db.rows<ReportRow>(`SELECT ${META} FROM reports ORDER BY period DESC, kind, version DESC`);
    return rows.map(meta);
  }

  async markSummarySent(kind: PeriodKind, period: string, version: number, at: number): Promise<void> {
    await this.db.changes('UPDATE reports SET summary_sent_at = $1 WHERE kind = $2 AND period = $3 AND version = $4', [
      at,
      kind,
      period,
      version,
    ]);
  }

  async noteRevisedHours(hourStarts: readonly number[], receivedAt: number): Promise<void> {
    if (hourStarts.length === 0) return;
    await this.db.changes(
      `INSERT INTO revised_hours (hour_start, last_received_at) SELECT DISTINCT h, $2::bigint FROM unnest($1::bigint[]) AS h
       ON CONFLICT (hour_start) DO UPDATE SET last_received_at = greatest(revised_hours.last_received_at, excluded.last_received_at)`,
      [hourStarts, receivedAt],
    );
  }

  async revisedSince(from: number, to: number, since: number): Promise<boolean> {
    return (
      (await this.db.one(
        'SELECT 1 FROM revised_hours WHERE hour_start >= $1 AND hour_start < $2 AND last_received_at > $3 LIMIT 1',
        [from, to, since],
      )) !== undefined
    );
  }
}
