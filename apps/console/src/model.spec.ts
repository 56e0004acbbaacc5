import { TEXTS, ruleName, signInError } from './i18n';
import { evidenceChartOption, siteChartOption } from './charts';
import { FleetSite, colourOf, project, worstFirst } from './fleet';
import { Alert, AlertEvent, applyEvent, formatTime, formatValue, isOverdue, sortWorkList } from './model';

const alert = (id: number, over: Partial<Alert> = {}): Alert => ({
  id,
  rule: 'pm10-hourly',
  ruleName: 'PM10小时均值超标',
  metric: 'pm10',
  subject: 'CZ-001-M1',
  siteId: 'CZ-001',
  siteName: '一号工地',
  district: '潞州区',
  deviceId: 'CZ-001-M1',
  state: 'open',
  severity: 'warning',
  threshold: 150,
  openedAt: '2026-11-28T01:00:00.000Z',
  raisedAt: '2026-11-28T01:00:00.000Z',
  firstExceedanceAt: '2026-11-28T01:00:00.000Z',
  lastExceedanceAt: '2026-11-28T01:00:00.000Z',
  peakValue: 163.44,
  peakAt: '2026-11-28T01:00:00.000Z',
  lastValue: 160,
  evidence: { from: '2026-11-28T00:00:00.000Z', to: '2026-11-28T01:00:00.000Z' },
  resolvedReason: null,
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedAt: null,
  closedBy: null,
  closedAt: null,
  closeNote: null,
  responseDueAt: '2026-11-28T02:00:00.000Z',
  overdue: false,
  ...over,
});
const event = (type: AlertEvent['type'], a: Alert): AlertEvent => ({
  id: 1,
  alertId: a.id,
  severity: a.severity,
  state: a.state,
  value: null,
  type,
  at: a.raisedAt,
  actor: null,
  actorName: null,
  note: null,
  alert: a,
});

describe('console: the work list', () => {
  it('puts the most severe first, then the newest', () => {
    const list = sortWorkList([
      alert(1),
      alert(2, { raisedAt: '2026-11-28T03:00:00.000Z' }),
      alert(3, { severity: 'critical' }),
    ]);
    expect(list.map((a) => a.id)).toEqual([3, 2, 1]);
  });

  it('takes a live event: a new alert appears, a change replaces its row (keeping its deadline), a closed one leaves', () => {
    let list = [alert(1)];
    list = applyEvent(
      list,
      event('opened', alert(2, { severity: 'critical', responseDueAt: undefined, overdue: undefined })),
    );
    expect(list.map((a) => [a.id, a.responseDueAt])).toEqual([
      [2, '2026-11-28T02:00:00.000Z'],
      [1, '2026-11-28T02:00:00.000Z'],
    ]);
    list = applyEvent(list, event('acknowledged', alert(1, { state: 'acknowledged', responseDueAt: undefined })));
    expect(list.find((a) => a.id === 1)).toMatchObject({
      state: 'acknowledged',
      responseDueAt: '2026-11-28T02:00:00.000Z',
    });
    list = applyEvent(list, event('closed', alert(2, { state: 'closed' })));
    expect(list.map((a) => a.id)).toEqual([1]);
  });

  it('marks overdue: unacknowledged past the deadline, or acknowledged after it', () => {
    const due = Date.parse('2026-11-28T02:00:00.000Z');
    expect([isOverdue(alert(1), due - 1), isOverdue(alert(1), due + 1)]).toEqual([false, true]);
    expect(isOverdue(alert(1, { acknowledgedAt: '2026-11-28T01:59:00.000Z' }), due + 3_600_000)).toBe(false);
    expect(isOverdue(alert(1, { acknowledgedAt: '2026-11-28T02:01:00.000Z' }), due + 3_600_000)).toBe(true);
  });

  it('shows values with units and times in Asia/Shanghai', () => {
    expect([formatValue('pm10', 163.44), formatValue('noise', 71.06), formatValue('pm10', null)]).toEqual([
      '163.4 µg/m³',
      '71.1 dB(A)',
      '—',
    ]);
    expect(formatTime('2026-11-28T16:30:00.000Z')).toBe('2026-11-29 00:30');
  });
});

describe('console: the fleet view', () => {
  const levels = {
    raise: [
      { severity: 'warning', op: '>=', value: 150 },
      { severity: 'critical', op: '>=', value: 250 },
    ],
    clear: { severity: 'clear', op: '<', value: 120 },
  };
  it('colours a site by its last hour against the PM10 rule levels', () => {
    expect([null, 80, 130, 150, 249.9, 250].map((v) => colourOf(v, levels))).toEqual([
      'none',
      'good',
      'watch',
      'warning',
      'warning',
      'critical',
    ]);
  });
  it('draws sites on their coordinates, north up, inside the box', () => {
    const site = (id: string, lat: number, lon: number) => ({
      id,
      name: id,
      district: 'd',
      lat,
      lon,
      kind: 'site' as const,
      monitors: 1,
      online: 1,
      activeWarning: 0,
      activeCritical: 0,
      pm10OneHour: null,
    });
    const at = project([site('sw', 36.0, 113.0), site('ne', 36.2, 113.2)], 400, 300, 20);
    expect(at.get('sw')!.y).toBeCloseTo(280, 6); // south at the bottom
    expect(at.get('ne')!.y).toBeCloseTo(20, 6); // north at the top, the taller span fills the height
    expect(at.get('ne')!.x).toBeGreaterThan(at.get('sw')!.x);
    expect(at.get('ne')!.x).toBeLessThanOrEqual(380);
  });
  it('lists sites worst first: critical alerts, warnings, monitors offline, last-hour PM10, then name', () => {
    const site = (name: string, over: Partial<FleetSite>): FleetSite => ({
      id: name,
      name,
      district: 'd',
      lat: 36,
      lon: 113,
      kind: 'site',
      monitors: 2,
      online: 2,
      activeWarning: 0,
      activeCritical: 0,
      pm10OneHour: null,
      ...over,
    });
    const sites = [
      site('乙', { pm10OneHour: 90 }),
      site('甲', { pm10OneHour: 90 }),
      site('无数据', {}),
      site('离线', { online: 1, pm10OneHour: 40 }),
      site('预警', { activeWarning: 1, pm10OneHour: 160 }),
      site('两条预警', { activeWarning: 2, pm10OneHour: 150 }),
      site('严重', { activeCritical: 1, pm10OneHour: 70 }),
      site('高', { pm10OneHour: 140 }),
    ];
    expect(worstFirst(sites).map((s) => s.name)).toEqual([
      '严重',
      '两条预警',
      '预警',
      '离线',
      '高',
      ...['甲', '乙'].sort((a, b) => a.localeCompare(b, 'zh-CN')),
      '无数据',
    ]);
  });
});

describe('console: the site chart', () => {
  it('one line per monitor and the background, hours named by their end in Asia/Shanghai, the raise levels drawn', () => {
    const from = Date.parse('2026-11-28T00:00:00.000Z');
    const option = siteChartOption(
      {
        siteId: 'CZ-001',
        from,
        to: from + 2 * 3_600_000,
        monitors: [
          { deviceId: 'CZ-001-M1', pm10: [{ hourStart: from, value: 163.44, n: 60 }], pm25: [], tsp: [], noise: [] },
        ],
        backgroundPm10: [{ hourStart: from + 3_600_000, value: 41, n: 60 }],
        limits: [
          {
            rule: 'pm10-hourly',
            raise: [
              { severity: 'warning', op: '>=', value: 150 },
              { severity: 'critical', op: '>=', value: 250 },
            ],
            clear: { severity: 'clear', op: '<', value: 120 },
          },
          {
            rule: 'tsp-hourly',
            raise: [{ severity: 'warning', op: '>', value: 800 }],
            clear: { severity: 'clear', op: '<', value: 700 },
          },
        ],
      },
      'pm10',
      '背景站',
    );
    expect(option.xAxis.data).toEqual(['11-28 09:00', '11-28 10:00']);
    expect(option.series.map((s) => [s.name, s.data])).toEqual([
      ['CZ-001-M1', [163.4, null]],
      ['背景站', [null, 41]],
    ]);
    expect((option.series[0] as { markLine?: { data: unknown[] } }).markLine?.data).toEqual([
      { name: 'pm10-hourly >=150', yAxis: 150 },
      { name: 'pm10-hourly >=250', yAxis: 250 },
    ]);
  });
});

describe('console: the evidence chart', () => {
  it('the readings, the raise and clear levels as lines, the background hours in the window (named by their end)', () => {
    const option = evidenceChartOption(
      [
        ['2026-11-28T01:00:00.000Z', 160.04],
        ['2026-11-28T01:30:00.000Z', 170],
      ],
      { rule: 'pm10-hourly', metric: 'pm10', threshold: 150 },
      [
        {
          rule: 'pm10-hourly',
          raise: [{ severity: 'warning', op: '>=', value: 150 }],
          clear: { severity: 'clear', op: '<', value: 120 },
        },
      ],
      [
        { hourStart: Date.parse('2026-11-27T23:00:00.000Z'), value: 40, n: 60 },
        { hourStart: Date.parse('2026-11-28T00:00:00.000Z'), value: 42.26, n: 60 },
        { hourStart: Date.parse('2026-11-28T05:00:00.000Z'), value: 44, n: 60 },
      ],
      { raise: '告警线', clear: '解除线', background: '背景站', readings: '原始读数' },
    );
    expect(option.series[0].data).toEqual([
      [Date.parse('2026-11-28T01:00:00.000Z'), 160],
      [Date.parse('2026-11-28T01:30:00.000Z'), 170],
    ]);
    expect(option.series[0].markLine?.data).toEqual([
      { yAxis: 150, name: '告警线 150' },
      { yAxis: 120, name: '解除线 120' },
    ]);
    expect(option.series[1]).toMatchObject({ name: '背景站', data: [[Date.parse('2026-11-28T01:00:00.000Z'), 42.3]] });
    expect(option.series[0].name).toBe('原始读数');
  });
});

describe('console: Chinese first', () => {
  it('names rules and sign-in refusals in Chinese, with the wait after throttling', () => {
    expect(ruleName(TEXTS.zh, 'pm10-hourly')).toBe('PM10小时均值超标');
    expect(ruleName(TEXTS.zh, 'device-offline')).toBe('设备离线');
    expect(ruleName(TEXTS.zh, 'site-own-rule')).toBe('site-own-rule');
    expect(signInError(TEXTS.zh, { status: 401, retryAfterSeconds: null })).toBe('用户名或密码错误');
    expect(signInError(TEXTS.zh, { status: 429, retryAfterSeconds: 5 })).toBe('尝试次数过多，请 5 秒后再试');
    expect(signInError(TEXTS.en, { status: 429, retryAfterSeconds: 20 })).toBe('Too many attempts: try again in 20 s');
  });
});
