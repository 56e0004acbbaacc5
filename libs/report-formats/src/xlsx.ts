import ExcelJS from 'exceljs';
import type { ComplianceReport } from '@dustwatch/reports';
import { Table, reportTables } from './tables';

/** The workbook: one sheet per table, frozen header row, numbers as numbers, and a sheet that says what the report is. */
export async function toXlsx(report: ComplianceReport, heading: readonly [string, string][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Dustwatch';
  wb.created = new Date(report.computedAt);
  const about = wb.addWorksheet('说明');
  about.columns = [{ width: 24 }, { width: 80 }];
  for (const row of heading) about.addRow([...row]);
  for (const table of reportTables(report)) addTable(wb, table);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function addTable(wb: ExcelJS.Workbook, table: Table<never>): void {
  const sheet = wb.addWorksheet(table.name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = table.columns.map((c) => ({
    header: c.header,
    width: Math.max(8, Math.min(28, c.header.length * 2 + 2)),
    style: c.decimals !== undefined ? { numFmt: `0.${'0'.repeat(c.decimals)}` } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  for (const row of table.rows) sheet.addRow(table.columns.map((c) => c.value(row)));
}
