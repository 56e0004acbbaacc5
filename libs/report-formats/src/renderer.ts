import type { RenderedReport, ReportFormat, ReportRenderer, ReportView } from '@dustwatch/core';
import { toCsv } from './csv';
import { beijingTime, toHtml } from './html';
import { htmlToPdf } from './pdf';
import { forDistrict } from '@dustwatch/reports';
import { SITE_COLUMNS, siteRows } from './tables';
import { toXlsx } from './xlsx';
import { RenderSlots } from './render-slots';

/** One Chromium at a time (~150 MB and a core each), three waiting: a PDF takes 1–2 s. */
const PDF_CONCURRENCY = 1;
const PDF_MAX_WAITING = 3;
const PDF_RETRY_AFTER_SECONDS = 5;

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
} as const;

/** CSV (the site table), XLSX (a sheet per table), the printable page and its PDF. */
const KIND_ZH = { daily: '日报', weekly: '周报', monthly: '月报' } as const;

export class BulletinRenderer implements ReportRenderer {
  /** @param chromiumPath the configured browser for PDFs (DUSTWATCH_CHROMIUM); the usual places otherwise. */
  private readonly pdfSlots = new RenderSlots(PDF_CONCURRENCY, PDF_MAX_WAITING, PDF_RETRY_AFTER_SECONDS);

  constructor(private readonly chromiumPath?: string) {}

  async render(view: ReportView, format: Exclude<ReportFormat, 'json'>, district?: string): Promise<RenderedReport> {
    const report = forDistrict(view.report, district);
    const filename = `dustwatch-${report.kind}-${report.period}${district ? '-district' : ''}-v${view.meta.version}.${format}`;
    const html = (): string =>
      toHtml(report, {
        version: view.meta.version,
        versions: view.versions,
        revisedDataAvailable: view.revisedDataAvailable,
        district,
      });
    let body: Buffer;
    switch (format) {
      case 'csv':
        body = Buffer.from(toCsv(SITE_COLUMNS, siteRows(report)), 'utf8');
        break;
      case 'xlsx':
        body = await toXlsx(report, [
          ['报告', `${report.title}${KIND_ZH[report.kind]}`],
          ['范围', district ?? '全市'],
          ['版本', `${view.meta.version} / ${view.versions}`],
          ['生成时间', `${beijingTime(report.computedAt)}（北京时间）`],
          ['本期数据', report.noData ? '本期无监测数据：不排名' : '有'],
          ['有修订数据', view.revisedDataAvailable ? '是：生成后收到本期补传数据' : '否'],
          ['定义', 'docs/reports.md；两台设备的工地：超标按较差者，捕获率取平均'],
        ]);
        break;
      case 'html':
        body = Buffer.from(html(), 'utf8');
        break;
      case 'pdf':
        body = await this.pdfSlots.run(() => htmlToPdf(html(), this.chromiumPath));
        break;
    }
    return { contentType: CONTENT_TYPES[format], filename, body };
  }
}
