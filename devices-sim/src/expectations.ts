import { MAX_FUTURE_SKEW_MS } from '@dustwatch/telemetry';
import { ModelDevice, Overlays, readingValues } from './model';
import { Scenario } from './scenarios';
import { localHour } from '@dustwatch/telemetry';

/** What the service should do because of a scenario, derived from the simulator's own series. */
export interface Expectation {
  readonly scenario: number;
  readonly kind: Scenario['kind'];
  readonly text: string;
  /** Times (epoch ms) tests can check against, when the expectation has them. */
  readonly times?: Record<string, number | null>;
}

const MINUTE = 60_000;
/** The service's default validity share and expected interval (docs/rules.md). */
const VALIDITY = 0.75;
const EXPECTED_INTERVAL_MS = 60_000;
const HOUR = 60 * MINUTE;
const iso = (t: number | null): string => (t === null ? 'never' : new Date(t).toISOString());

/**
 * First times the 1-h rolling mean of PM10 (all devices of the site, sampled every interval)
 * reaches 150 (warning) and 250 (critical), and afterwards falls below 120 (clear) — the default
 * pm10-hourly rule of the domain reference (Wuhan/Taiyuan practice).
 */
export function pm10HourlyCrossings(
  seed: number,
  devices: readonly ModelDevice[],
  overlays: Overlays,
  from: number,
  to: number,
  intervalMs: number,
): { warning: number | null; critical: number | null; clear: number | null } {
  const samples: { t: number; v: number }[] = [];
  for (let t = from; t <= to; t += intervalMs) {
    const values = devices.map((d) => readingValues(seed, d, t, overlays).pm10);
    samples.push({ t, v: values.reduce((a, b) => a + b, 0) / values.length });
  }
  let warning: number | null = null;
  let critical: number | null = null;
  let clear: number | null = null;
  let sum = 0;
  let first = 0;
  for (let i = 0; i < samples.length; i++) {
    sum += samples[i].v;
    while (samples[first].t <= samples[i].t - HOUR) sum -= samples[first++].v;
    // As the service: a window counts once it holds 75 % of its expected samples and they cover 75 % of it.
    const count = i - first + 1;
    const covered = samples[i].t - samples[first].t + EXPECTED_INTERVAL_MS;
    if (count < VALIDITY * (HOUR / EXPECTED_INTERVAL_MS) || covered < VALIDITY * HOUR) continue;
    const mean = sum / (i - first + 1);
    if (warning === null && mean >= 150) warning = samples[i].t;
    if (critical === null && mean >= 250) critical = samples[i].t;
    if (warning !== null && clear === null && mean < 120) clear = samples[i].t;
  }
  return { warning, critical, clear };
}

/**
 * @param arrival when a reading stamped at simulated time t reaches the service, by the service's
 *   clock: t itself for a live run, earlier for an accelerated run played in the past. Decides
 *   whether a clock skew pushes readings past the service's 5-minute tolerance.
 * @param dataFrom the first reading the service has: the run's start, or earlier when the hour
 *   before was backfilled (`run --history-from`); no window before it fills (an episode soon
 *   after a bare start opens its alert only once an hour is 75 % full).
 */
export function expectationsFor(
  scenarios: readonly Scenario[],
  seed: number,
  devices: readonly ModelDevice[],
  overlays: Overlays,
  intervalMs: number,
  arrival: (t: number) => number = (t) => t,
  dataFrom = -Infinity,
): Expectation[] {
  return scenarios.map((s, i): Expectation => {
    switch (s.kind) {
      case 'dust-episode': {
        // The service judges each monitor on its own readings, so each device of the site has its own crossings.
        const end = s.at + (s.rampMinutes + s.plateauMinutes + s.decayMinutes) * MINUTE + 2 * HOUR;
        const perDevice = devices
          .filter((d) => d.siteId === s.site)
          .map((d) => ({
            id: d.id,
            c: pm10HourlyCrossings(seed, [d], overlays, Math.max(s.at - HOUR, dataFrom), end, intervalMs),
          }));
        const times = Object.fromEntries(
          perDevice.flatMap(({ id, c }) => [
            [`${id}:warning`, c.warning],
            [`${id}:critical`, c.critical],
            [`${id}:clear`, c.clear],
          ]),
        );
        const text = perDevice
          .map(
            ({ id, c }) =>
              `pm10-hourly opens for ${id} (site ${s.site}) at ≈${iso(c.warning)} (1-h mean ≥ 150 µg/m³), escalates to critical at ≈${iso(c.critical)} (≥ 250), resolves at ≈${iso(c.clear)} (< 120)`,
          )
          .join('; ');
        return { scenario: i, kind: s.kind, times, text };
      }
      case 'regional-rise':
        return {
          scenario: i,
          kind: s.kind,
          text: `background PM in ${s.district} (the background station and every site) rises up to ×${s.factor} between ${iso(s.at)} and ${iso(s.at + s.durationMinutes * MINUTE)}; pm10-over-background stays quiet for sites without dust of their own`,
        };
      case 'night-noise': {
        const night = localHour(s.at) >= 22 || localHour(s.at) < 6;
        return {
          scenario: i,
          kind: s.kind,
          times: { from: s.at, to: s.at + s.durationMinutes * MINUTE },
          text: `${night ? 'noise-night' : 'noise-day'} opens for site ${s.site} within 15 min of ${iso(s.at)} (Leq 15 min with ${s.levelDb} dB(A) added) and clears after ${iso(s.at + s.durationMinutes * MINUTE)}`,
        };
      }
      case 'silence':
        return {
          scenario: i,
          kind: s.kind,
          times: { silentFrom: s.at, back: s.at + s.minutes * MINUTE },
          text: `device ${s.device} goes silent at ${iso(s.at)}${s.minutes >= 10 ? `; device-offline opens at ≈${iso(s.at + 10 * MINUTE)}` : ''}; at ${iso(s.at + s.minutes * MINUTE)} it reconnects and publishes its buffered readings as arrays (≤ 500), all stored with their own times`,
        };
      case 'clock-skew':
        // Refused when the skewed stamp is more than 5 minutes ahead of the service's clock on arrival.
        return {
          scenario: i,
          kind: s.kind,
          text:
            s.at + s.skewSeconds * 1000 > arrival(s.at) + MAX_FUTURE_SKEW_MS
              ? `readings of ${s.device} between ${iso(s.at)} and ${iso(s.at + s.minutes * MINUTE)} are stamped ${s.skewSeconds} s ahead: refused with ts_in_future and quarantined`
              : `readings of ${s.device} between ${iso(s.at)} and ${iso(s.at + s.minutes * MINUTE)} are stamped ${s.skewSeconds} s ahead but arrive within the service's 5-minute tolerance: stored at the shifted times (overwriting the device's own readings at those times)`,
        };
      case 'malformed':
        return {
          scenario: i,
          kind: s.kind,
          text: `${s.device} sends ${s.payloads.length} malformed payloads at ${iso(s.at)}; each is quarantined with its reason: ${s.payloads.join(', ')}`,
        };
      case 'duplicates':
        return {
          scenario: i,
          kind: s.kind,
          text: `${s.device} publishes every reading twice (QoS 1, DUP) between ${iso(s.at)} and ${iso(s.at + s.minutes * MINUTE)}; each is stored once`,
        };
      case 'reconnect-storm':
        return {
          scenario: i,
          kind: s.kind,
          text: `every device drops its connection at ${iso(s.at)} and reconnects with backoff; no acknowledged reading is lost`,
        };
    }
  });
}
