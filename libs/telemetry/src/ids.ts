/**
 * Site and device ids end up in MQTT topics, InfluxDB tags and SQL parameters, so they are
 * restricted to a conservative alphabet: no `+`, `#` or `/` (MQTT wildcards and levels), no
 * `,`, `=`, space or quote (line-protocol syntax), at most 64 characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
