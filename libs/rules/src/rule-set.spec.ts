import { RuleFileError, parseRuleSet, rulesForSite } from './rule-set';

function problemsOf(raw: unknown): string[] {
  try {
    parseRuleSet(raw);
  } catch (error) {
    if (error instanceof RuleFileError) return error.problems;
    throw error;
  }
  throw new Error('expected a RuleFileError');
}

describe('rule file', () => {
  it('gives the default rule set of the domain reference when empty', () => {
    const set = parseRuleSet({});
    expect(set.rules.map((r) => r.id)).toEqual([
      'pm10-hourly',
      'pm10-over-background',
      'tsp-hourly',
      'noise-day',
      'noise-night',
      'device-offline',
    ]);
    expect(set.validity).toBe(0.75);
    const night = set.rules.find((r) => r.id === 'noise-night');
    expect(night).toMatchObject({
      kind: 'window',
      metric: 'noise',
      average: 'energy',
      windowMinutes: 15,
      schedule: { from: '22:00', to: '06:00' },
      clear: { op: '<=', value: 52 },
    });
  });

  it('names every rule in Chinese: the default names, a name from the file, the id for an unnamed rule of its own', () => {
    expect(parseRuleSet().rules.map((r) => r.name)).toEqual([
      'PM10小时均值超标',
      'PM10超出区县背景值',
      'TSP小时均值超标',
      '昼间噪声超标',
      '夜间噪声超标',
      '设备离线',
    ]);
    const set = parseRuleSet({
      rules: [
        {
          id: 'pm10-hourly',
          kind: 'window',
          metric: 'pm10',
          windowMinutes: 60,
          raise: [{ severity: 'warning', op: '>=', value: 150 }],
          clear: { op: '<', value: 120 },
        },
        {
          id: 'pm25-hourly',
          name: ' PM2.5小时均值超标 ',
          kind: 'window',
          metric: 'pm25',
          windowMinutes: 60,
          raise: [{ severity: 'warning', op: '>=', value: 75 }],
          clear: { op: '<', value: 60 },
        },
        { id: 'quiet', kind: 'offline', silenceMinutes: 30 },
      ],
      sites: { 'CZ-001': { 'pm10-hourly': { name: '本工地PM10超标' } } },
    });
    expect(set.rules.map((r) => r.name)).toEqual(['PM10小时均值超标', 'PM2.5小时均值超标', 'quiet']);
    expect(set.siteOverrides['CZ-001'][0].name).toBe('本工地PM10超标');
    expect(() =>
      parseRuleSet({ rules: [{ id: 'x', name: '换行\n# 标题', kind: 'offline', silenceMinutes: 10 }] }),
    ).toThrow('rules[0].name: must be 1 to 40 characters without control characters, got "换行\\n# 标题"');
  });

  it('applies per-site overrides to that site only', () => {
    const set = parseRuleSet({
      sites: {
        'CZ-007': {
          'pm10-hourly': { raise: [{ severity: 'warning', op: '>=', value: 100 }], clear: { op: '<', value: 80 } },
          'noise-night': { enabled: false },
        },
      },
    });
    const site = rulesForSite(set, 'CZ-007');
    expect(site.find((r) => r.id === 'pm10-hourly')).toMatchObject({
      raise: [{ severity: 'warning', op: '>=', value: 100 }],
      clear: { op: '<', value: 80 },
      windowMinutes: 60,
    });
    expect(site.find((r) => r.id === 'noise-night')?.enabled).toBe(false);
    expect(rulesForSite(set, 'CZ-008').find((r) => r.id === 'pm10-hourly')).toMatchObject({
      raise: [{ value: 150 }, { value: 250 }],
    });
  });

  it('lists every problem of a bad file, each with its place', () => {
    expect(
      problemsOf({
        validity: 1.5,
        rules: [
          {
            id: 'pm10-hourly',
            kind: 'window',
            metric: 'pm100',
            windowMinutes: 60,
            raise: [{ severity: 'warning', op: '>=', value: 150 }],
            clear: { op: '<', value: 160 },
          },
          {
            id: 'noise',
            kind: 'window',
            metric: 'noise',
            average: 'arithmetic',
            windowMinutes: 15,
            raise: [
              { severity: 'critical', op: '>', value: 70 },
              { severity: 'warning', op: '>', value: 75 },
            ],
            clear: { op: '>', value: 60 },
            schedule: { from: '22:00', to: '22:10' },
          },
          { id: 'off', kind: 'offline', silenceMinutes: 0, colour: 'red' },
          { id: 'x', kind: 'threshold' },
        ],
        sites: { 'CZ 1': {}, 'CZ-002': { 'no-such-rule': {} } },
      }),
    ).toEqual([
      'validity: must be a number from 0.01 to 1, got 1.5',
      'rules[0].metric: must be one of pm25, pm10, tsp, noise, windSpeed, windDir, temperature, humidity, pressure, got "pm100"',
      'rules[0].clear.value: 160 leaves no hysteresis below the raise level 150',
      'rules[1].average: noise levels are logarithmic: only the energy average (Leq) is meaningful',
      'rules[1].raise[1].severity: levels must be listed from the mildest to the most severe',
      'rules[1].clear.op: must point the other way from the raise levels (< or <=)',
      'rules[1].schedule: lasts 10 min, shorter than the 15-min window',
      'rules[2]: unknown field "colour" (allowed: id, name, kind, enabled, silenceMinutes, severity)',
      'rules[2].silenceMinutes: must be a number from 1 to 10080, got 0',
      'rules[3].kind: must be one of window, background-difference, offline, got "threshold"',
      'sites.CZ 1: site id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
      'sites.CZ-002.no-such-rule: no rule "no-such-rule" to override (rules: pm10-hourly, noise, off)',
    ]);
  });

  it('refuses a non-mapping file and a duplicate rule id', () => {
    expect(problemsOf([])).toEqual(['the file must hold a mapping (expectedIntervalSeconds, validity, rules, sites)']);
    const rule = { id: 'offline', kind: 'offline', silenceMinutes: 5 };
    expect(problemsOf({ rules: [rule, rule] })).toEqual(['rules[1].id: duplicate rule id "offline"']);
  });
});

describe('compliance section (the regional rule pack)', () => {
  it('defaults to a 60-minute response deadline and 2 background exceedances a day, and checks what a file gives', () => {
    expect(parseRuleSet().compliance).toEqual({ responseDeadlineMinutes: 60, backgroundExceedancesAllowedPerDay: 2 });
    expect(parseRuleSet({ compliance: { backgroundExceedancesAllowedPerDay: 0 } }).compliance).toEqual({
      responseDeadlineMinutes: 60,
      backgroundExceedancesAllowedPerDay: 0,
    });
    expect(() => parseRuleSet({ compliance: { responseDeadlineMinutes: 0, allowed: 3 } })).toThrow(
      /compliance: unknown field "allowed".*\n.*compliance.responseDeadlineMinutes: must be a number from 1 to 10080, got 0/s,
    );
  });
});
