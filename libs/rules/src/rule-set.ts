import { ID_PATTERN, METRICS, METRIC_KEYS, MetricKey } from '@dustwatch/telemetry';

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export type ComparisonOp = '>' | '>=' | '<' | '<=';
export interface Comparison {
  readonly op: ComparisonOp;
  readonly value: number;
}
export interface RaiseLevel extends Comparison {
  readonly severity: Severity;
}

export function holds(c: Comparison, x: number): boolean {
  switch (c.op) {
    case '>':
      return x > c.value;
    case '>=':
      return x >= c.value;
    case '<':
      return x < c.value;
    case '<=':
      return x <= c.value;
  }
}

/** A local-time (Asia/Shanghai) daily window; `from` > `to` crosses midnight (22:00–06:00). */
export interface Schedule {
  readonly from: string;
  readonly to: string;
}

interface RuleBase {
  readonly id: string;
  /** What inspectors and leaders read (zh-CN): the rule file's `name`, else the default's, else the id. */
  readonly name: string;
  readonly enabled: boolean;
}

/**
 * A rolling time-window mean of one metric of one device. Noise uses the energy average
 * Leq = 10·log10(mean(10^(L/10))) (GB 12523), never the arithmetic mean of dB values.
 */
export interface WindowRule extends RuleBase {
  readonly kind: 'window';
  readonly metric: MetricKey;
  readonly windowMinutes: number;
  readonly average: 'arithmetic' | 'energy';
  /** Ordered from the mildest to the most severe level. */
  readonly raise: readonly RaiseLevel[];
  readonly clear: Comparison;
  /** The condition must hold this long (event time) before an alert opens. */
  readonly minDurationMinutes: number;
  readonly schedule: Schedule | null;
  readonly appliesTo: 'site' | 'background';
}

/**
 * Site mean minus the mean of the district's background stations over the same window
 * (Hebei DB13/2934-2019: site PM10 hourly mean minus the county background, limit 80 µg/m³).
 */
export interface BackgroundDifferenceRule extends Omit<WindowRule, 'kind' | 'appliesTo'> {
  readonly kind: 'background-difference';
}

/** No accepted reading for `silenceMinutes`: raised on a timer, cleared by the next reading. */
export interface OfflineRule extends RuleBase {
  readonly kind: 'offline';
  readonly silenceMinutes: number;
  readonly severity: Severity;
}

export type Rule = WindowRule | BackgroundDifferenceRule | OfflineRule;
export type MeasurementRule = WindowRule | BackgroundDifferenceRule;

export interface RuleSet {
  /** The device reporting interval the validity share is computed against. */
  readonly expectedIntervalSeconds: number;
  /** Share of expected samples a window needs to count (75 % by default). */
  readonly validity: number;
  /** Readings older than this (event time vs. now) are stored but not evaluated, so a backfill of last month opens no alerts. */
  readonly evaluationHorizonMinutes: number;
  readonly rules: readonly Rule[];
  /** Per-site rule lists, defaults merged with the site's overrides. */
  readonly siteOverrides: Readonly<Record<string, readonly Rule[]>>;
  /** How alerts and reports are judged (docs/reports.md); part of the regional rule pack. */
  readonly compliance: Compliance;
}

export interface Compliance {
  /** An alert not acknowledged within this is overdue (cities require a response within one hour). */
  readonly responseDeadlineMinutes: number;
  /** DB13/2934-2019: a site complies on a day with at most this many background-difference exceedance hours. */
  readonly backgroundExceedancesAllowedPerDay: number;
}

/** The default rule set of the domain reference (every value can be overridden per site). */
export const DEFAULT_RULES_FILE = {
  expectedIntervalSeconds: 60,
  validity: 0.75,
  evaluationHorizonMinutes: 180,
  compliance: { responseDeadlineMinutes: 60, backgroundExceedancesAllowedPerDay: 2 },
  rules: [
    // Wuhan (> 150 warning) and Taiyuan (≥ 250 stop work) practice on the 1-h mean.
    {
      id: 'pm10-hourly',
      name: 'PM10小时均值超标',
      kind: 'window',
      metric: 'pm10',
      windowMinutes: 60,
      raise: [
        { severity: 'warning', op: '>=', value: 150 },
        { severity: 'critical', op: '>=', value: 250 },
      ],
      clear: { op: '<', value: 120 },
    },
    {
      id: 'pm10-over-background',
      name: 'PM10超出区县背景值',
      kind: 'background-difference',
      metric: 'pm10',
      windowMinutes: 60,
      raise: [{ severity: 'warning', op: '>', value: 80 }],
      clear: { op: '<=', value: 60 },
    },
    {
      id: 'tsp-hourly',
      name: 'TSP小时均值超标',
      kind: 'window',
      metric: 'tsp',
      windowMinutes: 60,
      raise: [{ severity: 'warning', op: '>', value: 800 }],
      clear: { op: '<', value: 700 },
    },
    // GB 12523-2011 site boundary limits, Leq over 15 minutes.
    {
      id: 'noise-day',
      name: '昼间噪声超标',
      kind: 'window',
      metric: 'noise',
      windowMinutes: 15,
      schedule: { from: '06:00', to: '22:00' },
      raise: [{ severity: 'warning', op: '>', value: 70 }],
      clear: { op: '<=', value: 67 },
    },
    {
      id: 'noise-night',
      name: '夜间噪声超标',
      kind: 'window',
      metric: 'noise',
      windowMinutes: 15,
      schedule: { from: '22:00', to: '06:00' },
      raise: [{ severity: 'warning', op: '>', value: 55 }],
      clear: { op: '<=', value: 52 },
    },
    { id: 'device-offline', name: '设备离线', kind: 'offline', silenceMinutes: 10, severity: 'warning' },
  ],
} as const;

export class RuleFileError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid rule file (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'RuleFileError';
  }
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const OPS: readonly ComparisonOp[] = ['>', '>=', '<', '<='];
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

const minutesCache = new Map<string, number>();
/** Minutes after local midnight of "HH:MM" (memoised: schedules are checked on every reading). */
export function minutesOfDay(hhmm: string): number {
  let minutes = minutesCache.get(hhmm);
  if (minutes === undefined) {
    minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    minutesCache.set(hhmm, minutes);
  }
  return minutes;
}

class Checker {
  readonly problems: string[] = [];
  fail(where: string, message: string): void {
    this.problems.push(`${where}: ${message}`);
  }
  allowOnly(where: string, obj: Record<string, unknown>, keys: readonly string[]): void {
    for (const key of Object.keys(obj))
      if (!keys.includes(key)) this.fail(where, `unknown field "${key}" (allowed: ${keys.join(', ')})`);
  }
  number(where: string, x: unknown, min: number, max: number): number {
    if (!isNumber(x) || x < min || x > max) {
      this.fail(where, `must be a number from ${min} to ${max}, got ${JSON.stringify(x)}`);
      return min;
    }
    return x;
  }
  comparison(where: string, x: unknown): Comparison | null {
    if (!isObject(x)) {
      this.fail(where, 'must be an object like { op: ">=", value: 150 }');
      return null;
    }
    if (!OPS.includes(x['op'] as ComparisonOp))
      this.fail(`${where}.op`, `must be one of ${OPS.join(' ')}, got ${JSON.stringify(x['op'])}`);
    if (!isNumber(x['value'])) this.fail(`${where}.value`, `must be a number, got ${JSON.stringify(x['value'])}`);
    return { op: x['op'] as ComparisonOp, value: x['value'] as number };
  }
}

const RULE_FIELDS: Record<Rule['kind'], readonly string[]> = {
  window: [
    'id',
    'name',
    'kind',
    'enabled',
    'metric',
    'windowMinutes',
    'average',
    'raise',
    'clear',
    'minDurationMinutes',
    'schedule',
    'appliesTo',
  ],
  'background-difference': [
    'id',
    'name',
    'kind',
    'enabled',
    'metric',
    'windowMinutes',
    'average',
    'raise',
    'clear',
    'minDurationMinutes',
    'schedule',
  ],
  offline: ['id', 'name', 'kind', 'enabled', 'silenceMinutes', 'severity'],
};

function checkRule(c: Checker, where: string, raw: unknown): Rule | null {
  if (!isObject(raw)) {
    c.fail(where, 'must be an object');
    return null;
  }
  const id = raw['id'];
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    c.fail(`${where}.id`, `must match ${ID_PATTERN.source}, got ${JSON.stringify(id)}`);
  const kind = raw['kind'] as Rule['kind'];
  if (!(kind in RULE_FIELDS)) {
    c.fail(`${where}.kind`, `must be one of ${Object.keys(RULE_FIELDS).join(', ')}, got ${JSON.stringify(kind)}`);
    return null;
  }
  c.allowOnly(where, raw, RULE_FIELDS[kind]);
  const enabled = raw['enabled'] ?? true;
  if (typeof enabled !== 'boolean') c.fail(`${where}.enabled`, 'must be true or false');
  const name = checkName(c, `${where}.name`, raw['name'], id);
  if (kind === 'offline') {
    const severity = (raw['severity'] ?? 'warning') as Severity;
    if (!SEVERITIES.includes(severity)) c.fail(`${where}.severity`, `must be one of ${SEVERITIES.join(', ')}`);
    return {
      id: id as string,
      name,
      kind,
      enabled: enabled as boolean,
      severity,
      silenceMinutes: c.number(`${where}.silenceMinutes`, raw['silenceMinutes'], 1, 10_080),
    };
  }
  const metric = raw['metric'] as MetricKey;
  if (!METRIC_KEYS.includes(metric))
    c.fail(`${where}.metric`, `must be one of ${METRIC_KEYS.join(', ')}, got ${JSON.stringify(metric)}`);
  const windowMinutes = c.number(`${where}.windowMinutes`, raw['windowMinutes'], 1, 1440);
  const average = (raw['average'] ?? (metric === 'noise' ? 'energy' : 'arithmetic')) as WindowRule['average'];
  if (average !== 'arithmetic' && average !== 'energy') c.fail(`${where}.average`, 'must be arithmetic or energy');
  if (metric === 'noise' && average !== 'energy')
    c.fail(`${where}.average`, 'noise levels are logarithmic: only the energy average (Leq) is meaningful');
  const raise: RaiseLevel[] = [];
  if (!Array.isArray(raw['raise']) || raw['raise'].length === 0)
    c.fail(`${where}.raise`, 'must be a non-empty list of { severity, op, value }');
  else
    raw['raise'].forEach((level: unknown, i: number) => {
      const cmp = c.comparison(`${where}.raise[${i}]`, level);
      const severity = isObject(level) ? (level['severity'] as Severity) : undefined;
      if (!severity || !SEVERITIES.includes(severity))
        c.fail(`${where}.raise[${i}].severity`, `must be one of ${SEVERITIES.join(', ')}`);
      if (cmp && severity) raise.push({ ...cmp, severity });
    });
  const clear = c.comparison(`${where}.clear`, raw['clear']);
  checkHysteresis(c, where, raise, clear);
  let schedule: Schedule | null = null;
  if (raw['schedule'] !== undefined && raw['schedule'] !== null) {
    const s = raw['schedule'];
    if (
      !isObject(s) ||
      typeof s['from'] !== 'string' ||
      typeof s['to'] !== 'string' ||
      !TIME.test(s['from']) ||
      !TIME.test(s['to']) ||
      s['from'] === s['to']
    ) {
      c.fail(`${where}.schedule`, 'must be { from: "HH:MM", to: "HH:MM" } (local time, Asia/Shanghai) with from ≠ to');
    } else {
      schedule = { from: s['from'], to: s['to'] };
      const length = (minutesOfDay(schedule.to) - minutesOfDay(schedule.from) + 1440) % 1440;
      if (length < windowMinutes)
        c.fail(`${where}.schedule`, `lasts ${length} min, shorter than the ${windowMinutes}-min window`);
    }
  }
  const appliesTo = (raw['appliesTo'] ?? 'site') as WindowRule['appliesTo'];
  if (appliesTo !== 'site' && appliesTo !== 'background') c.fail(`${where}.appliesTo`, 'must be site or background');
  const common = {
    id: id as string,
    name,
    enabled: enabled as boolean,
    metric,
    windowMinutes,
    average,
    raise,
    clear: clear ?? { op: '<', value: 0 },
    minDurationMinutes: c.number(`${where}.minDurationMinutes`, raw['minDurationMinutes'] ?? 0, 0, 1440),
    schedule,
  } as const;
  return kind === 'window' ? { ...common, kind, appliesTo } : { ...common, kind };
}

const DEFAULT_NAMES: ReadonlyMap<string, string> = new Map(DEFAULT_RULES_FILE.rules.map((r) => [r.id, r.name]));
// Cc (C0, DEL, C1) and the bidi overrides/isolates that can reorder what an inspector reads.
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** A rule's display name: given (1–40 characters, no control or bidi characters), else the default rule's, else its id. */
function checkName(c: Checker, where: string, raw: unknown, id: unknown): string {
  if (raw === undefined) return DEFAULT_NAMES.get(id as string) ?? String(id);
  if (typeof raw !== 'string' || raw.trim().length === 0 || raw.length > 40 || CONTROL.test(raw)) {
    c.fail(where, `must be 1 to 40 characters without control characters, got ${JSON.stringify(raw)}`);
    return String(id);
  }
  return raw.trim();
}

/** Levels must rise in severity and strictness in one direction, and the clear level must lie beyond the mildest raise level (hysteresis). */
function checkHysteresis(c: Checker, where: string, raise: readonly RaiseLevel[], clear: Comparison | null): void {
  if (raise.length === 0 || !clear) return;
  const upward = raise[0].op === '>' || raise[0].op === '>=';
  for (let i = 0; i < raise.length; i++) {
    const level = raise[i];
    if ((level.op === '>' || level.op === '>=') !== upward)
      c.fail(`${where}.raise[${i}].op`, 'all raise levels must point the same way');
    if (i > 0) {
      const previous = raise[i - 1];
      if (severityRank(level.severity) <= severityRank(previous.severity))
        c.fail(`${where}.raise[${i}].severity`, 'levels must be listed from the mildest to the most severe');
      if (upward ? level.value <= previous.value : level.value >= previous.value)
        c.fail(
          `${where}.raise[${i}].value`,
          `must be ${upward ? 'above' : 'below'} the previous level's ${previous.value}`,
        );
    }
  }
  const clearsDown = clear.op === '<' || clear.op === '<=';
  if (clearsDown !== upward)
    c.fail(`${where}.clear.op`, `must point the other way from the raise levels (${upward ? '< or <=' : '> or >='})`);
  else if (upward ? clear.value > raise[0].value : clear.value < raise[0].value)
    c.fail(`${where}.clear.value`, `${clear.value} leaves no hysteresis below the raise level ${raise[0].value}`);
}

const FILE_FIELDS = ['expectedIntervalSeconds', 'validity', 'evaluationHorizonMinutes', 'compliance', 'rules', 'sites'];

/**
 * Validates a rule file (already parsed from YAML/JSON) against the defaults: `rules` replaces the
 * default list when given; `sites.<siteId>.<ruleId>` overrides single fields of one rule for one
 * site (`enabled: false` switches it off there). Every problem is listed, none is guessed.
 */
export function parseRuleSet(raw: unknown = {}): RuleSet {
  const c = new Checker();
  if (!isObject(raw))
    throw new RuleFileError(['the file must hold a mapping (expectedIntervalSeconds, validity, rules, sites)']);
  c.allowOnly('file', raw, FILE_FIELDS);
  const base = DEFAULT_RULES_FILE as unknown as Record<string, unknown>;
  const expectedIntervalSeconds = c.number(
    'expectedIntervalSeconds',
    raw['expectedIntervalSeconds'] ?? base['expectedIntervalSeconds'],
    1,
    3600,
  );
  const validity = c.number('validity', raw['validity'] ?? base['validity'], 0.01, 1);
  const evaluationHorizonMinutes = c.number(
    'evaluationHorizonMinutes',
    raw['evaluationHorizonMinutes'] ?? base['evaluationHorizonMinutes'],
    60,
    10_080,
  );
  const compliance = checkCompliance(c, raw['compliance'] ?? {});
  const rawRules = raw['rules'] ?? base['rules'];
  const rules: Rule[] = [];
  if (!Array.isArray(rawRules)) c.fail('rules', 'must be a list');
  else
    rawRules.forEach((r: unknown, i: number) => {
      const rule = checkRule(c, `rules[${i}]`, r);
      if (!rule) return;
      if (rules.some((x) => x.id === rule.id)) c.fail(`rules[${i}].id`, `duplicate rule id "${rule.id}"`);
      rules.push(rule);
    });
  const siteOverrides: Record<string, Rule[]> = {};
  const sites = raw['sites'] ?? {};
  if (!isObject(sites)) c.fail('sites', 'must be a mapping of site id to rule overrides');
  else
    for (const [siteId, overrides] of Object.entries(sites)) {
      if (!ID_PATTERN.test(siteId)) c.fail(`sites.${siteId}`, `site id must match ${ID_PATTERN.source}`);
      if (!isObject(overrides)) {
        c.fail(`sites.${siteId}`, 'must be a mapping of rule id to fields to override');
        continue;
      }
      for (const ruleId of Object.keys(overrides))
        if (!rules.some((r) => r.id === ruleId))
          c.fail(
            `sites.${siteId}.${ruleId}`,
            `no rule "${ruleId}" to override (rules: ${rules.map((r) => r.id).join(', ')})`,
          );
      siteOverrides[siteId] = rules.map((rule, i) => {
        const patch = overrides[rule.id];
        if (patch === undefined) return rule;
        if (!isObject(patch)) {
          c.fail(`sites.${siteId}.${rule.id}`, 'must be a mapping of fields');
          return rule;
        }
        if ('id' in patch || 'kind' in patch) c.fail(`sites.${siteId}.${rule.id}`, 'id and kind cannot be overridden');
        const source = Array.isArray(rawRules) ? (rawRules[i] as Record<string, unknown>) : {};
        return (
          checkRule(c, `sites.${siteId}.${rule.id}`, { ...source, ...patch, id: rule.id, kind: rule.kind }) ?? rule
        );
      });
    }
  if (c.problems.length > 0) throw new RuleFileError(c.problems);
  return { expectedIntervalSeconds, validity, evaluationHorizonMinutes, rules, siteOverrides, compliance };
}

function checkCompliance(c: Checker, raw: unknown): Compliance {
  const defaults = DEFAULT_RULES_FILE.compliance;
  if (!isObject(raw)) {
    c.fail('compliance', 'must be a mapping (responseDeadlineMinutes, backgroundExceedancesAllowedPerDay)');
    return defaults;
  }
  c.allowOnly('compliance', raw, Object.keys(defaults));
  return {
    responseDeadlineMinutes: c.number(
      'compliance.responseDeadlineMinutes',
      raw['responseDeadlineMinutes'] ?? defaults.responseDeadlineMinutes,
      1,
      10_080,
    ),
    backgroundExceedancesAllowedPerDay: c.number(
      'compliance.backgroundExceedancesAllowedPerDay',
      raw['backgroundExceedancesAllowedPerDay'] ?? defaults.backgroundExceedancesAllowedPerDay,
      0,
      24,
    ),
  };
}

export const rulesForSite = (set: RuleSet, siteId: string): readonly Rule[] => set.siteOverrides[siteId] ?? set.rules;

/** Metrics the rule set reads, so only those are kept in the rolling windows. */
export function metricsUsed(set: RuleSet): MetricKey[] {
  const all = [set.rules, ...Object.values(set.siteOverrides)].flat();
  return METRIC_KEYS.filter((m) => all.some((r) => r.kind !== 'offline' && r.enabled && r.metric === m));
}

/** Unit of a metric, for alert texts. */
export const unitOf = (metric: MetricKey): string => METRICS[metric].unit;
