import type { ComplianceReport, MonitorHour, PeriodKind, ReportPeriod } from '@dustwatch/reports';

export interface StoredReportMeta {
  readonly kind: PeriodKind;
  readonly period: string;
  readonly version: number;
  readonly computedAt: number;
  /** Readings received up to here were in the figures; later ones for the period make it "revised data available". */
  readonly dataAsOf: number;
  readonly computedBy: string;
  readonly summarySentAt: number | null;
}

export interface StoredReport {
  readonly meta: StoredReportMeta;
  readonly report: ComplianceReport;
}

/** Computed reports, kept per version (a recomputation adds one), and the hours late readings revised. */
export interface ReportStore {
  latest(kind: PeriodKind, period: string): Promise<StoredReport | undefined>;
  version(kind: PeriodKind, period: string, version: number): Promise<StoredReport | undefined>;
  /** Stores a new version (1 for the first) and returns its meta. */
  save(report: ComplianceReport, dataAsOf: number, computedBy: string): Promise<StoredReportMeta>;
  /** Every stored version, newest period first. */
  list(kind?: PeriodKind): Promise<StoredReportMeta[]>;
  markSummarySent(kind: PeriodKind, period: string, version: number, at: number): Promise<void>;
  /** Notes that readings for these hours (hour starts) were accepted at `receivedAt`. */
  noteRevisedHours(hourStarts: readonly number[], receivedAt: number): Promise<void>;
  /** Whether readings for [from, to) were accepted after `since`. */
  revisedSince(from: number, to: number, since: number): Promise<boolean>;
}

/** Where the report's hourly rows come from (InfluxDB). */
export interface ReportDataSource {
  /**
   * Makes the roll-up of the period exact before it is read: waits for readings already
   * accepted to reach InfluxDB and rolls up late and recent hours. Throws DataNotSettledError
   * when InfluxDB is behind.
   */
  settle(period: ReportPeriod): Promise<void>;
  /** Monitor hours of the period from the hourly roll-up; `progress(done, total)` per day read. */
  monitorHours(period: ReportPeriod, progress?: (done: number, total: number) => void): Promise<MonitorHour[]>;
  /** The same rows computed from the raw readings: the benchmark's baseline and a check of the roll-up. */
  monitorHoursFromRaw(period: ReportPeriod, progress?: (done: number, total: number) => void): Promise<MonitorHour[]>;
  /** When the installation's first reading was taken (raw or rolled up), or null while it has none. */
  firstDataAt(): Promise<number | null>;
}

export class DataNotSettledError extends Error {}

export interface ReportView extends StoredReport {
  /** Readings for the period were accepted after the report was computed: a recomputation would change it. */
  readonly revisedDataAvailable: boolean;
  readonly versions: number;
}

export const REPORT_FORMATS = ['json', 'csv', 'xlsx', 'html', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  readonly contentType: string;
  readonly filename: string;
  readonly body: Buffer;
}

/** Thrown when a format needs something the machine lacks (PDF without Chromium); the message says what to install. */
export class FormatUnavailableError extends Error {}

/** Too many files are being rendered already (PDFs: a Chromium each): try again in `retryAfterSeconds`. */
export class RendererBusyError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The bulletin's files: CSV, XLSX, the printable page, its PDF. `district` narrows the site tables to one district. */
export interface ReportRenderer {
  render(view: ReportView, format: Exclude<ReportFormat, 'json'>, district?: string): Promise<RenderedReport>;
}
