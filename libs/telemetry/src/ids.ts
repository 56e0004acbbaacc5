/**
 * Site and device ids end up in MQTT topics, InfluxDB tags and SQL parameters, so they are
 * restricted to a conservative alphabet: no `+`, `#` or `/` (MQTT wildcards and levels), no
 * `,`, `=`, space or quote (line-protocol syntax), at most 64 characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Control and format characters (NUL, BEL, ESC, the bidi overrides RLO/LRO, zero-width ones) and
 * line/paragraph separators: they have no place in a site's name or an inspector's note, and once
 * stored they come back out in HTML, CSV, XLSX and webhooks (issue 22). Notes may hold line breaks and tabs.
 */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const CONTROL_EXCEPT_LINE_BREAKS = /(?![\n\r\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The first forbidden character of `text` as `U+XXXX`, or null when it is plain text. */
export function controlCharacterIn(text: string, multiline = false): string | null {
  const found = (multiline ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).exec(text);
  return found ? `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null;
}
