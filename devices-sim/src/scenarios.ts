import { parse } from 'yaml';
import { REJECTION_CODES } from '@dustwatch/telemetry';
import { parseDuration, parseInstant } from './duration';
import { Overlays } from './model';

/**
 * Scenario files (YAML or JSON, docs/scenarios.md): timed events the simulator plays on top of
 * the normal model. `at` is ISO 8601 with an offset, or relative to the run's start: "+90m", "+2h".
 */
/** One malformed payload per refusal reason of contract v1: the simulator can provoke each of them. */
export const MALFORMED_KINDS = REJECTION_CODES;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export type Scenario =
  | {
      kind: 'dust-episode';
      site: string;
      at: number;
      rampMinutes: number;
      plateauMinutes: number;
      decayMinutes: number;
      peakPm10: number;
    }
  | { kind: 'regional-rise'; district: string; at: number; durationMinutes: number; factor: number }
  | { kind: 'night-noise'; site: string; at: number; durationMinutes: number; levelDb: number }
  | { kind: 'silence'; device: string; at: number; minutes: number }
  | { kind: 'clock-skew'; device: string; at: number; minutes: number; skewSeconds: number }
  | { kind: 'malformed'; device: string; at: number; payloads: MalformedKind[] }
  | { kind: 'duplicates'; device: string; at: number; minutes: number }
  | { kind: 'reconnect-storm'; at: number };

export class ScenarioError extends Error {
  constructor(readonly problems: string[]) {
    super(`scenario file has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const MINUTE = 60_000;

function resolveAt(value: unknown, start: number): number | null {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('+')) {
      const offset = parseDuration(text.slice(1));
      return offset === null ? null : start + offset;
    }
    return parseInstant(text);
  }
  return null;
}

const FIELDS: Record<Scenario['kind'], Record<string, 'string' | 'number' | 'kinds'>> = {
  'dust-episode': {
    site: 'string',
    rampMinutes: 'number',
    plateauMinutes: 'number',
    decayMinutes: 'number',
    peakPm10: 'number',
  },
  'regional-rise': { district: 'string', durationMinutes: 'number', factor: 'number' },
  'night-noise': { site: 'string', durationMinutes: 'number', levelDb: 'number' },
  silence: { device: 'string', minutes: 'number' },
  'clock-skew': { device: 'string', minutes: 'number', skewSeconds: 'number' },
  malformed: { device: 'string', payloads: 'kinds' },
  duplicates: { device: 'string', minutes: 'number' },
  'reconnect-storm': {},
};

/** Parses and checks a scenario file; every problem is listed. Relative times resolve against `start`. */
export function parseScenarios(
  text: string,
  start: number,
  known: { sites: Set<string>; devices: Set<string>; districts: Set<string> },
): Scenario[] {
  const doc = parse(text) as { version?: unknown; scenarios?: unknown };
  const problems: string[] = [];
  if (doc?.version !== 1) problems.push('version: must be 1');
  if (!Array.isArray(doc?.scenarios)) throw new ScenarioError([...problems, 'scenarios: must be a list']);
  const result: Scenario[] = [];
  doc.scenarios.forEach((raw: Record<string, unknown>, i: number) => {
    const where = `scenarios[${i}]`;
    const kind = raw?.kind as Scenario['kind'];
    const fields = FIELDS[kind];
    if (!fields) {
      problems.push(`${where}.kind: one of ${Object.keys(FIELDS).join(', ')}`);
      return;
    }
    const at = resolveAt(raw.at, start);
    if (at === null) problems.push(`${where}.at: ISO 8601 with offset, or +N s/m/h/d from the start`);
    const out: Record<string, unknown> = { kind, at };
    for (const [name, type] of Object.entries(fields)) {
      const value = raw[name] ?? (name === 'payloads' ? [...MALFORMED_KINDS] : undefined);
      if (type === 'number' && !(typeof value === 'number' && Number.isFinite(value) && value > 0))
        problems.push(`${where}.${name}: a positive number`);
      if (type === 'string' && typeof value !== 'string') problems.push(`${where}.${name}: required`);
      if (
        type === 'kinds' &&
        !(Array.isArray(value) && value.every((k) => (MALFORMED_KINDS as readonly string[]).includes(k)))
      )
        problems.push(`${where}.${name}: a list of ${MALFORMED_KINDS.join(', ')}`);
      out[name] = value;
    }
    if (typeof out['site'] === 'string' && !known.sites.has(out['site']))
      problems.push(`${where}.site: ${out['site']} is not in the fleet`);
    if (typeof out['device'] === 'string' && !known.devices.has(out['device']))
      problems.push(`${where}.device: ${out['device']} is not in the fleet`);
    if (typeof out['district'] === 'string' && !known.districts.has(out['district']))
      problems.push(`${where}.district: ${out['district']} is not in the fleet`);
    result.push(out as Scenario);
  });
  if (problems.length > 0) throw new ScenarioError(problems);
  return result;
}

/** The value-model part of the scenarios. */
export function overlaysOf(scenarios: readonly Scenario[]): Overlays {
  const overlays = { dustEpisodes: [], regionalRises: [], nightNoise: [] } as {
    [K in keyof Overlays]: Overlays[K][number][];
  };
  for (const s of scenarios) {
    if (s.kind === 'dust-episode')
      overlays.dustEpisodes.push({
        siteId: s.site,
        start: s.at,
        rampMs: s.rampMinutes * MINUTE,
        plateauMs: s.plateauMinutes * MINUTE,
        decayMs: s.decayMinutes * MINUTE,
        peakPm10: s.peakPm10,
      });
    if (s.kind === 'regional-rise')
      overlays.regionalRises.push({
        district: s.district,
        start: s.at,
        durationMs: s.durationMinutes * MINUTE,
        factor: s.factor,
      });
    if (s.kind === 'night-noise')
      overlays.nightNoise.push({
        siteId: s.site,
        start: s.at,
        durationMs: s.durationMinutes * MINUTE,
        levelDb: s.levelDb,
      });
  }
  return overlays;
}
