import { DeviceDirectory, DeviceInfo, EngineOutput, RuleEngine, RuleSample, RuleState, Transition } from './engine';
import { RuleSet, parseRuleSet } from './rule-set';

const MIN = 60_000;
// 2026-03-10 00:00 Asia/Shanghai = 2026-03-09T16:00Z
const LOCAL_MIDNIGHT = Date.UTC(2026, 2, 9, 16, 0, 0);
const local = (h: number, m = 0): number => LOCAL_MIDNIGHT + (h * 60 + m) * MIN;

const SITE_DEVICE: DeviceInfo = { deviceId: 'S1-M1', siteId: 'S1', district: 'Luzhou', kind: 'site' };
const OTHER_SITE: DeviceInfo = { deviceId: 'S2-M1', siteId: 'S2', district: 'Luzhou', kind: 'site' };
const BG1: DeviceInfo = { deviceId: 'BG-1', siteId: 'BG-LZ', district: 'Luzhou', kind: 'background' };
const BG2: DeviceInfo = { deviceId: 'BG-2', siteId: 'BG-LZ2', district: 'Luzhou', kind: 'background' };

class FakeClock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

/** The fleet, and the devices' last-seen times as the service's presence record would hold them. */
function directory(
  devices: DeviceInfo[] = [SITE_DEVICE, OTHER_SITE, BG1, BG2],
): DeviceDirectory & { seen: Map<string, number> } {
  const seen = new Map<string, number>();
  return {
    seen,
    device: (id) => devices.find((d) => d.deviceId === id),
    backgroundDevices: (district) =>
      devices.filter((d) => d.kind === 'background' && d.district === district).map((d) => d.deviceId),
    allDevices: () => devices,
    lastSeenAt: (id) => seen.get(id),
  };
}

/** Only the named rules of the default set, so each test sees the rule it is about. */
function only(...ids: string[]): RuleSet {
  const set = parseRuleSet({});
  return { ...set, rules: set.rules.filter((r) => ids.includes(r.id)) };
}

interface Harness {
  clock: FakeClock;
  engine: RuleEngine;
  seen: Map<string, number>;
  /** Feeds one reading a minute from `from` (inclusive) for `minutes` minutes; returns the transitions. */
  feed(
    device: string,
    from: number,
    minutes: number,
    values: (t: number, i: number) => RuleSample['values'],
  ): Transition[];
}

function harness(set: RuleSet, start = local(8)): Harness {
  const clock = new FakeClock(start);
  const fleet = directory();
  const engine = new RuleEngine(set, fleet, clock);
  return {
    clock,
    engine,
    seen: fleet.seen,
    feed(device, from, minutes, values) {
      const out: Transition[] = [];
      for (let i = 0; i < minutes; i++) {
        const t = from + i * MIN;
        clock.t = Math.max(clock.t, t);
        fleet.seen.set(device, t);
        out.push(...engine.onReadings(device, [{ ts: t, values: values(t, i) }], t).transitions);
      }
      return out;
    },
  };
}

/** Local (Asia/Shanghai) HH:MM. */
const hhmm = (t: number): string => new Date(t + 8 * 3_600_000).toISOString().slice(11, 16);
const summary = (ts: Transition[]): string[] =>
  ts
    .filter((t) => t.type !== 'exceed')
    .map((t) => `${t.type}:${t.ruleId}:${'severity' in t ? t.severity : 'reason' in t ? t.reason : ''}@${hhmm(t.at)}`);

describe('pm10-hourly (1-h rolling mean, hysteresis, escalation)', () => {
  it('opens at the first valid hour ≥ 150, escalates at ≥ 250, stays raised between 120 and 150, clears below 120', () => {
    const h = harness(only('pm10-hourly'));
    const start = local(8);
    // 60 min at 100, 60 min at 200, 60 min at 300, 60 min at 130, 60 min at 100
    const level = (i: number): number => [100, 200, 300, 130, 100][Math.floor(i / 60)];
    const out = h.feed('S1-M1', start, 300, (_t, i) => ({ pm10: level(i) }));
    // Each window holds the 60 samples in (t − 60 min, t]. The mean reaches 150 when 30 of 60 are
    // at 200: minute 89 (08:89 = 09:29). 250 when 30 of 60 at 300: minute 149 (10:29).
    // Falling: with 130s entering, mean = (300·(60−k) + 130·k)/60 stays ≥ 120 after clearing
    // 250 but never falls below 120 until the 100s: (130·(60−k) + 100·k)/60 < 120 → k > 20: the 21st 100 is minute 260 (12:20).
    expect(summary(out)).toEqual([
      'raise:pm10-hourly:warning@09:29',
      'escalate:pm10-hourly:critical@10:29',
      'clear:pm10-hourly:condition-cleared@12:20',
    ]);
    const raise = out.find((t) => t.type === 'raise')!;
    expect(raise.value).toBe(150);
    expect(raise.window).toEqual({ from: local(9, 29) - 60 * MIN, to: local(9, 29) });
  });

  it('does not open on an hour with fewer than 75 % of its expected samples', () => {
    const h = harness(only('pm10-hourly'));
    // one reading every 2 minutes: 30 of 60 expected samples per hour, never valid
    const out: Transition[] = [];
    for (let i = 0; i < 120; i += 2)
      out.push(
        ...h.engine.onReadings('S1-M1', [{ ts: local(8) + i * MIN, values: { pm10: 400 } }], local(8) + i * MIN)
          .transitions,
      );
    expect(out).toEqual([]);
    // 45 of 60 (exactly 75 %) is valid: 3 of every 4 minutes
    const h2 = harness(only('pm10-hourly'));
    const out2: Transition[] = [];
    for (let i = 0; i < 60; i++)
      if (i % 4 !== 3)
        out2.push(
          ...h2.engine.onReadings('S1-M1', [{ ts: local(8) + i * MIN, values: { pm10: 400 } }], local(8) + i * MIN)
            .transitions,
        );
    expect(summary(out2)).toEqual(['raise:pm10-hourly:critical@08:58']);
  });

  it('counts a QoS 1 duplicate once and places a late reading in its window', () => {
    const t0 = local(8);
    const h2 = harness(only('pm10-hourly'));
    const out: Transition[] = [];
    // Minutes 0–44 without minute 10: they cover 45 minutes of the hour, but 44 samples are fewer than 45.
    for (let i = 0; i <= 44; i++)
      if (i !== 10)
        out.push(
          ...h2.engine.onReadings('S1-M1', [{ ts: t0 + i * MIN, values: { pm10: 160 } }], t0 + i * MIN).transitions,
        );
    for (let r = 0; r < 5; r++)
      out.push(
        ...h2.engine.onReadings('S1-M1', [{ ts: t0 + 44 * MIN, values: { pm10: 160 } }], t0 + 45 * MIN).transitions,
      );
    expect(out).toEqual([]); // 44 distinct samples < 45: the five duplicates did not count
    // the missing 45th sample arrives late, stamped at minute 10: it lands in the current hour
    const late = h2.engine.onReadings(
      'S1-M1',
      [{ ts: t0 + 10 * MIN, values: { pm10: 160 } }],
      t0 + 46 * MIN,
    ).transitions;
    expect(summary(late)).toEqual(['raise:pm10-hourly:warning@08:44']);
  });

  it('judges a window only when its readings cover 75 % of it: an hour of 10-s readings is not judged on its first 7.5 minutes', () => {
    const h = harness(only('pm10-hourly'));
    const t0 = local(8);
    const out: Transition[] = [];
    // 45 readings 10 s apart (the count a valid hour needs at one a minute), all over the limit.
    for (let i = 0; i < 45; i++)
      out.push(...h.engine.onReadings('S1-M1', [{ ts: t0 + i * 10_000, values: { pm10: 300 } }], t0).transitions);
    expect(out).toEqual([]);
    // Readings every 10 s until they span 45 minutes: then the hour is judged.
    for (let i = 45; i <= 44 * 6; i++)
      out.push(
        ...h.engine.onReadings('S1-M1', [{ ts: t0 + i * 10_000, values: { pm10: 300 } }], t0 + i * 10_000).transitions,
      );
    expect(summary(out)).toEqual(['raise:pm10-hourly:critical@08:44']);
  });

  it('judges a buffered hour that arrives after live data resumed in its own windows, at its real times', () => {
    const h = harness(only('pm10-hourly'));
    h.feed('S1-M1', local(8), 60, () => ({ pm10: 60 }));
    // The link is down 09:00–10:00; live data resumes at 10:00, clean.
    expect(summary(h.feed('S1-M1', local(10), 31, () => ({ pm10: 60 })))).toEqual([]);
    // Then the monitor uploads the hour it buffered (补传): a dust episode at 300 µg/m³.
    const buffered = Array.from({ length: 60 }, (_, i) => ({ ts: local(9, i), values: { pm10: 300 } }));
    h.clock.t = local(10, 31);
    const out = h.engine.onReadings('S1-M1', buffered, h.clock.t).transitions;
    // 1-h mean = 60 + 4k after k minutes of 300: ≥ 150 at 09:23 (k = 23), ≥ 250 at 09:48 (k = 48).
    expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:22', 'escalate:pm10-hourly:critical@09:47']);
    const raise = out.find((t) => t.type === 'raise')!;
    expect([hhmm(raise.at), hhmm((raise as { since: number }).since)]).toEqual(['09:22', '09:22']);
    // The current window (09:31–10:30, mean 176) keeps it open; live data then clears it at its own time.
    expect(out.filter((t) => t.type === 'exceed').map((t) => hhmm(t.at))).toContain('10:30');
    expect(summary(h.feed('S1-M1', local(10, 31), 40, () => ({ pm10: 60 })))).toEqual([
      'clear:pm10-hourly:condition-cleared@10:45',
    ]);
  });

  describe('a late upload (补传) of a gap, after live data resumed (issue 18)', () => {
    // PM10 100 every minute for 170 min from 08:00, minutes 100–119 missing; then those 20
    // minutes arrive late at 700. The window ending at minute m holds (m − 60, m].
    // Minute 104: 55·100 + 5·700 = 9,000 / 60 = 150 → warning; minute 114: 45·100 + 15·700 =
    // 15,000 / 60 = 250 → critical; the current window after the upload (minute 169):
    // 50·100 + 10·700 = 12,000 / 60 = 200 → still open.
    const t0 = local(8);
    const live = (h: Harness): void => {
      h.feed('S1-M1', t0, 100, () => ({ pm10: 100 }));
      h.feed('S1-M1', t0 + 120 * MIN, 50, () => ({ pm10: 100 }));
    };
    const gap = Array.from({ length: 20 }, (_, i) => ({ ts: t0 + (100 + i) * MIN, values: { pm10: 700 } }));

    it('one reading per upload: ONE alert, opened at minute 104, escalated at 114, still open', () => {
      const h = harness(only('pm10-hourly'));
      live(h);
      const out: Transition[] = [];
      for (const reading of gap) {
        h.clock.t += 3_000; // a few seconds apart, after minute 169
        out.push(...h.engine.onReadings('S1-M1', [reading], h.clock.t).transitions);
      }
      // minute 104 = 09:44, minute 114 = 09:54
      expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:44', 'escalate:pm10-hourly:critical@09:54']);
      // the next live reading judges the complete window (200): no clear
      expect(summary(h.feed('S1-M1', t0 + 170 * MIN, 1, () => ({ pm10: 100 })))).toEqual([]);
    });

    it('the same upload as one batch gives the same single alert', () => {
      const h = harness(only('pm10-hourly'));
      live(h);
      h.clock.t += 3_000;
      const out = h.engine.onReadings('S1-M1', [...gap].reverse(), h.clock.t).transitions;
      expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:44', 'escalate:pm10-hourly:critical@09:54']);
    });

    it('live data that clears the episode while the upload is still running: the rest of the upload opens nothing', () => {
      const h = harness(only('pm10-hourly'));
      live(h);
      const out: Transition[] = [];
      for (const reading of gap.slice(0, 7))
        out.push(...h.engine.onReadings('S1-M1', [reading], h.clock.t).transitions);
      // Live readings go on meanwhile; by minute 180 the window (120, 180] is all 100: clear.
      out.push(...h.feed('S1-M1', t0 + 170 * MIN, 11, () => ({ pm10: 100 })));
      for (const reading of gap.slice(7)) out.push(...h.engine.onReadings('S1-M1', [reading], h.clock.t).transitions);
      // The window at minute 170 (10:50) holds 50 valid readings of 100: the live data clears it.
      expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:44', 'clear:pm10-hourly:condition-cleared@10:50']);
    });

    it('an alert a later window opened is the one a late exceedance belongs to', () => {
      const h = harness(only('pm10-hourly'));
      h.feed('S1-M1', t0, 100, () => ({ pm10: 100 }));
      // live data resumes at minute 120, already dusty: its windows hold 40 readings until
      // minute 164 (10:44) holds 45, the first valid one
      const opened = h.feed('S1-M1', t0 + 120 * MIN, 50, () => ({ pm10: 400 }));
      expect(summary(opened)).toEqual(['raise:pm10-hourly:critical@10:44']);
      const out: Transition[] = [];
      for (const reading of gap) out.push(...h.engine.onReadings('S1-M1', [reading], h.clock.t).transitions);
      expect(summary(out)).toEqual([]);
    });

    it('a restart in the middle of the upload keeps the one alert (state and memory are persisted)', () => {
      const h = harness(only('pm10-hourly'));
      live(h);
      const out: Transition[] = [];
      const persisted = new Map<string, RuleState>();
      const keep = (o: EngineOutput): Transition[] => {
        for (const c of o.states) {
          if (c.state) persisted.set(c.ruleId, c.state);
          else persisted.delete(c.ruleId);
        }
        return o.transitions;
      };
      for (const reading of gap.slice(0, 10)) out.push(...keep(h.engine.onReadings('S1-M1', [reading], h.clock.t)));
      const fleet = directory();
      fleet.seen.set('S1-M1', h.clock.t);
      const restarted = new RuleEngine(only('pm10-hourly'), fleet, h.clock);
      restarted.restoreStates([...persisted.values()]);
      const journal = [
        ...Array.from({ length: 100 }, (_, i) => ({ ts: t0 + i * MIN, values: { pm10: 100 } })),
        ...Array.from({ length: 50 }, (_, i) => ({ ts: t0 + (120 + i) * MIN, values: { pm10: 100 } })),
        ...gap.slice(0, 10),
      ];
      restarted.restoreSamples('S1-M1', journal);
      out.push(...keep(restarted.evaluateAll()));
      for (const reading of gap.slice(10)) out.push(...keep(restarted.onReadings('S1-M1', [reading], h.clock.t)));
      expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:44', 'escalate:pm10-hourly:critical@09:54']);
    });
  });

  it('does not rewrite an open alert with older windows, and keeps a live pending start', () => {
    const h = harness(only('pm10-hourly'));
    h.feed('S1-M1', local(8), 60, () => ({ pm10: 300 }));
    const late = [{ ts: local(7, 59), values: { pm10: 20 } }];
    h.clock.t = local(9);
    const out = h.engine.onReadings('S1-M1', late, h.clock.t).transitions;
    expect(summary(out)).toEqual([]); // still raised: no clear from the past, no second raise
  });

  it('takes a buffered batch in any order and evaluates each window in time order', () => {
    const h = harness(only('pm10-hourly'));
    const t0 = local(8);
    const batch = Array.from({ length: 120 }, (_, i) => ({
      ts: t0 + i * MIN,
      values: { pm10: i < 60 ? 100 : 300 },
    })).reverse();
    h.clock.t = t0 + 121 * MIN;
    const out = h.engine.onReadings('S1-M1', batch, h.clock.t).transitions;
    // the mean reaches 150 when 15 of the last 60 are 300: minute 74 → 09:14; 250 at 45 of 60: minute 104 → 09:44
    expect(summary(out)).toEqual(['raise:pm10-hourly:warning@09:14', 'escalate:pm10-hourly:critical@09:44']);
  });

  it('holds back readings older than the evaluation horizon (a backfill opens no alert)', () => {
    const h = harness(only('pm10-hourly'), local(8) + 2 * 24 * 60 * MIN);
    const old = Array.from({ length: 120 }, (_, i) => ({ ts: local(8) + i * MIN, values: { pm10: 500 } }));
    const out = h.engine.onReadings('S1-M1', old, h.clock.t);
    expect(out.transitions).toEqual([]);
    expect(out.skippedTooOld).toBe(120);
  });

  it('waits out a minimum duration before opening', () => {
    const set = parseRuleSet({
      rules: [
        {
          id: 'pm10-sustained',
          kind: 'window',
          metric: 'pm10',
          windowMinutes: 15,
          minDurationMinutes: 10,
          raise: [{ severity: 'warning', op: '>=', value: 150 }],
          clear: { op: '<', value: 120 },
        },
      ],
    });
    const h = harness(set);
    const t0 = local(8);
    // the window is valid first at minute 11 (12 of 15 samples); the alert opens 10 min later
    const out = h.feed('S1-M1', t0, 40, () => ({ pm10: 200 }));
    expect(summary(out)).toEqual(['raise:pm10-sustained:warning@08:21']);
    expect(out[0].type === 'raise' && out[0].since).toBe(t0 + 11 * MIN);
  });

  it('a dip below the raise level before the minimum duration restarts the wait', () => {
    const set = parseRuleSet({
      rules: [
        {
          id: 'pm10-sustained',
          kind: 'window',
          metric: 'pm10',
          windowMinutes: 15,
          minDurationMinutes: 10,
          raise: [{ severity: 'warning', op: '>=', value: 150 }],
          clear: { op: '<', value: 120 },
        },
      ],
    });
    const h = harness(set);
    const t0 = local(8);
    // 200 except minutes 15–24 at 0: the 15-min mean holds from minute 11, falls below 150
    // before minute 21, and holds again later; the wait starts over from there.
    const level = (i: number): number => (i >= 15 && i < 25 ? 0 : 200);
    const out = h.feed('S1-M1', t0, 80, (_t, i) => ({ pm10: level(i) }));
    const means = Array.from({ length: 80 }, (_, i) => {
      const w = Array.from({ length: Math.min(15, i + 1) }, (_, j) => level(i - j));
      return w.reduce((a, b) => a + b, 0) / w.length;
    });
    const firstBelow = means.findIndex((m, i) => i >= 11 && m < 150);
    const backAbove = means.findIndex((m, i) => i > firstBelow && m >= 150);
    expect(firstBelow).toBeLessThan(21); // broken before the 10 minutes were up
    expect(summary(out)).toEqual([`raise:pm10-sustained:warning@${hhmm(t0 + (backAbove + 10) * MIN)}`]);
    expect(out[0].type === 'raise' && out[0].since).toBe(t0 + backAbove * MIN);
  });
});

describe('noise rules (Leq, day/night schedule across midnight)', () => {
  it('uses the energy average: 9 min at 50 dB and 3 min at 62 dB is Leq 56.7 > 55 though the arithmetic mean is 53', () => {
    const h = harness(only('noise-night'), local(23));
    // 12 of 15 expected samples (≥ 75 %) make the first valid window, at 23:11
    const out = h.feed('S1-M1', local(23), 12, (_t, i) => ({ noise: i < 9 ? 50 : 62 }));
    expect(summary(out)).toEqual(['raise:noise-night:warning@23:11']);
    const leq = 10 * Math.log10((9 * 10 ** 5 + 3 * 10 ** 6.2) / 12);
    expect(out[0].value).toBeCloseTo(leq, 10);
    expect(leq).toBeCloseTo(56.7, 1);
    expect((9 * 50 + 3 * 62) / 12).toBe(53);
  });

  it('judges the night only by windows wholly inside 22:00–06:00, across midnight, and closes at 06:00', () => {
    const h = harness(only('noise-night', 'noise-day'), local(21, 30));
    // 60 dB from 21:30 to 06:30 next day: day limit 70 never reached, night limit 55 exceeded
    const out = h.feed('S1-M1', local(21, 30), 9 * 60, () => ({ noise: 60 }));
    // the window (t − 15 min, t] must lie after 22:00, so the first night window is the one ending at 22:15
    expect(summary(out)).toEqual(['raise:noise-night:warning@22:15', 'clear:noise-night:schedule-ended@06:00']);
    // it crossed local midnight without a second alert
    expect(out.filter((t) => t.type === 'raise')).toHaveLength(1);
  });

  it('resolves a day alert at 22:00 on the timer when the monitor falls silent before it; 22:00:00 itself is night', () => {
    const h = harness(only('noise-day'), local(21, 30));
    const out = h.feed('S1-M1', local(21, 30), 20, () => ({ noise: 75 })); // last reading 21:49
    expect(summary(out)).toEqual(['raise:noise-day:warning@21:41']);
    h.clock.t = local(21, 59) + 59_999;
    expect(h.engine.tick().transitions).toEqual([]); // 21:59:59.999 is still day
    h.clock.t = local(22) + 30_000;
    const ended = h.engine.tick();
    expect(ended.transitions.map((t) => [t.type, 'reason' in t ? t.reason : '', t.at])).toEqual([
      ['clear', 'schedule-ended', local(22)],
    ]);
    // back to normal, remembering when the episode ended (a late window before it opens nothing)
    expect(ended.states).toEqual([
      {
        subject: 'S1-M1',
        ruleId: 'noise-day',
        state: { subject: 'S1-M1', ruleId: 'noise-day', phase: 'cleared', since: local(22), severity: 'warning' },
      },
    ]);
    h.clock.t = local(22, 5);
    expect(h.engine.tick().transitions).toEqual([]); // once
  });

  it("ends a schedule in the device's own time: a replay of an evening played at another hour ends at the replay's 22:00", () => {
    const h = harness(only('noise-day'), local(21, 30));
    h.feed('S1-M1', local(21, 30), 20, () => ({ noise: 75 }));
    // the replay's newest reading (21:49) arrived "now"; 5 real minutes later its device time is 21:54: still day
    h.seen.set('S1-M1', local(3)); // received at 03:00 real time (the wall clock is far past 22:00)
    h.clock.t = local(3, 5);
    expect(h.engine.tick().transitions).toEqual([]);
    h.clock.t = local(3, 11);
    expect(summary(h.engine.tick().transitions)).toEqual(['clear:noise-day:schedule-ended@22:00']);
  });

  it('clears at ≤ 52 dB(A), not at 54 (hysteresis below the 55 limit)', () => {
    const h = harness(only('noise-night'), local(0));
    const out = h.feed('S1-M1', local(0), 90, (_t, i) => ({ noise: i < 30 ? 60 : i < 60 ? 54 : 50 }));
    const kinds = summary(out);
    expect(kinds[0]).toBe('raise:noise-night:warning@00:11'); // first valid window: 12 of 15 samples
    expect(kinds).toHaveLength(2);
    // Leq of 15 min falls to ≤ 52 only once enough 50 dB minutes replaced the 54s: 54·k... computed exactly:
    let clearAt = -1;
    for (let i = 60; i < 90 && clearAt < 0; i++) {
      const window = Array.from({ length: 15 }, (_, j) => i - 14 + j).map((k) => (k < 30 ? 60 : k < 60 ? 54 : 50));
      if (10 * Math.log10(window.reduce((a, l) => a + 10 ** (l / 10), 0) / 15) <= 52) clearAt = i;
    }
    expect(kinds[1]).toBe(`clear:noise-night:condition-cleared@${hhmm(local(0) + clearAt * MIN)}`);
    expect(clearAt).toBeGreaterThan(60);
  });
});

describe('pm10-over-background (site minus district background, same hour)', () => {
  it('raises when the site exceeds the mean of the district background stations by more than 80, clears at ≤ 60', () => {
    const h = harness(only('pm10-over-background'));
    const t0 = local(8);
    const out: Transition[] = [];
    for (let i = 0; i < 180; i++) {
      const t = t0 + i * MIN;
      h.clock.t = t;
      h.engine.onReadings('BG-1', [{ ts: t, values: { pm10: 90 } }], t);
      h.engine.onReadings('BG-2', [{ ts: t, values: { pm10: 110 } }], t);
      // the site: 150 for the first hour (diff 50), 200 for the second (diff 100), 150 again
      const site = i < 60 ? 150 : i < 120 ? 200 : 150;
      out.push(...h.engine.onReadings('S1-M1', [{ ts: t, values: { pm10: site } }], t).transitions);
    }
    // background mean 100; diff = mean − 100 > 80 when the site mean > 180: 150 + 50·k/60 > 180 → k > 36 → minute 96 (09:36)
    // back ≤ 60 when the site mean ≤ 160: 200 − 50·k/60 ≤ 160 → k ≥ 48 → minute 167 (10:47)
    expect(summary(out)).toEqual([
      'raise:pm10-over-background:warning@09:36',
      'clear:pm10-over-background:condition-cleared@10:47',
    ]);
    expect(out[0].value).toBeCloseTo(150 + (50 * 37) / 60 - 100, 10);
  });

  it('stays silent when the district has no valid background hour (rising city air is not the site)', () => {
    const h = harness(only('pm10-over-background'));
    const out = h.feed('S1-M1', local(8), 120, () => ({ pm10: 400 }));
    expect(out).toEqual([]);
  });
});

describe('device-offline (timer, not arrival)', () => {
  it('raises after 10 min of silence even if the device never returns, once; the next reading clears it', () => {
    const h = harness(only('device-offline'));
    const t0 = local(8);
    h.feed('S1-M1', t0, 1, () => ({ pm10: 50 }));
    h.clock.t = t0 + 9 * MIN + 59_999;
    expect(h.engine.tick().transitions).toEqual([]);
    h.clock.t = t0 + 10 * MIN;
    expect(summary(h.engine.tick().transitions)).toEqual(['raise:device-offline:warning@08:10']);
    h.clock.t = t0 + 60 * MIN;
    expect(h.engine.tick().transitions).toEqual([]); // still the same alert
    const back = h.engine.onReadings('S1-M1', [{ ts: t0 + 60 * MIN, values: { pm10: 50 } }], t0 + 60 * MIN).transitions;
    expect(summary(back)).toEqual(['clear:device-offline:reading-received@09:00']);
    expect(back[0].value).toBe(60);
  });

  it("does not count the service's own downtime, nor watch devices that never reported", () => {
    const t0 = local(8);
    const h = harness(only('device-offline'), t0 + 120 * MIN);
    h.seen.set('S1-M1', t0); // seen two hours before the service started
    h.clock.t = t0 + 125 * MIN;
    expect(h.engine.tick().transitions).toEqual([]);
    h.clock.t = t0 + 130 * MIN;
    expect(h.engine.tick().transitions.map((t) => t.subject)).toEqual(['S1-M1']);
  });
});

describe('restart', () => {
  it('a condition restored from persisted samples and state neither resets nor opens twice', () => {
    const h = harness(only('pm10-hourly'));
    const t0 = local(8);
    const samples = Array.from({ length: 40 }, (_, i) => ({ ts: t0 + i * MIN, values: { pm10: 300 } }));
    for (const s of samples) h.engine.onReadings('S1-M1', [s], s.ts);
    // restart: a new engine from the same samples continues the window
    const again = harness(only('pm10-hourly'), t0 + 40 * MIN);
    again.engine.restoreSamples('S1-M1', samples);
    const out = again.feed('S1-M1', t0 + 40 * MIN, 10, () => ({ pm10: 300 }));
    expect(summary(out)).toEqual(['raise:pm10-hourly:critical@08:44']);
    // and after a second restart with the raised state persisted, no second raise
    const states = [
      {
        subject: 'S1-M1',
        ruleId: 'pm10-hourly',
        phase: 'raised' as const,
        since: t0 + 44 * MIN,
        severity: 'critical' as const,
      },
    ];
    const third = harness(only('pm10-hourly'), t0 + 50 * MIN);
    third.engine.restoreStates(states);
    third.engine.restoreSamples('S1-M1', [
      ...samples,
      ...Array.from({ length: 10 }, (_, i) => ({ ts: t0 + (40 + i) * MIN, values: { pm10: 300 } })),
    ]);
    expect(summary(third.engine.evaluateAll().transitions)).toEqual([]);
    expect(third.engine.evaluateAll().transitions.map((t) => t.type)).toEqual(['exceed']);
  });
});
