import { Cell, Column } from './tables';

/** UTF-8 byte order mark: without it Excel opens UTF-8 CSV as the local code page and garbles Chinese. */
export const BOM = '\uFEFF';

/**
 * One CSV field (RFC 4180 quoting). Text that a spreadsheet would run as a formula (= + - @ at
 * the start: a site name comes from a fleet file) is prefixed with ' (OWASP's CSV-injection advice).
 */
export function csvField(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(c.header)), ...rows.map((r) => columns.map((c) => csvField(c.value(r))))];
  return BOM + lines.map((l) => l.join(',')).join('\r\n') + '\r\n';
}
