/** "90s", "10m", "2h", "1d" → milliseconds; null when not of that form. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** ISO 8601 with an offset → epoch ms; null otherwise. */
export function parseInstant(text: string): number | null {
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : null;
}
