import { IngestMetrics, ReadingsStore, Scheduler, SpoolBatch, silentLogger } from '@dustwatch/core';
import { InfluxHttpClient, InfluxWriteError } from './influx-http.client';
import { InfluxWriter } from './influx-writer';

/** An InfluxDB that refuses the first `failures` writes with a 503, then takes everything. */
class FlakyInflux extends InfluxHttpClient {
  readonly written: string[][] = [];
  constructor(private failures: number) {
    super({ url: 'http://127.0.0.1:9', database: 'test' });
  }
  override async query(): Promise<never[]> {
    return []; // schema statements
  }
  override async write(lines: readonly string[]): Promise<void> {
    if (this.failures-- > 0) throw new InfluxWriteError('InfluxDB write answered 503: overloaded', 503, true);
    this.written.push([...lines]);
  }
}

/** A spool of lines in memory; the writer only sees the port. */
function memorySpool(lines: string[]): ReadingsStore & { lines: string[] } {
  const spool = {
    lines,
    get depth() {
      return spool.lines.length;
    },
    bytes: 0,
    quota: 1e9,
    overQuota: false,
    peek: async (max: number): Promise<SpoolBatch | null> =>
      spool.lines.length === 0
        ? null
        : {
            firstId: 1,
            lastId: Math.min(max, spool.lines.length),
            lines: spool.lines.slice(0, max),
            bytes: 0,
            oldestReceivedAt: 0,
          },
    remove: async (batch: SpoolBatch) => void spool.lines.splice(0, batch.lines.length),
    pendingRollUps: async () => [],
    rolledUp: async () => undefined,
    onCommitted: () => () => undefined,
  };
  return spool as unknown as ReadingsStore & { lines: string[] };
}

describe('InfluxWriter backoff (scheduler injected: no waiting)', () => {
  it('backs off exponentially with jitter while InfluxDB refuses, keeps the batch, and writes it once InfluxDB takes it', async () => {
    const sleeps: number[] = [];
    let stopped: Promise<void> | null = null;
    const influx = new FlakyInflux(4);
    const spool = memorySpool(['readings,device=d1 pm10=1 1000', 'readings,device=d1 pm10=2 2000']);
    const scheduler: Scheduler = {
      every: () => ({ cancel: () => undefined }),
      sleep: async (ms) => {
        sleeps.push(ms);
        if (spool.lines.length === 0) stopped ??= writer.stop(); // drained: end the loop
      },
    };
    const writer = new InfluxWriter(spool, influx, new IngestMetrics(), { now: () => 0 }, scheduler, silentLogger, {
      batchLines: 5000,
      maxDelayMs: 0,
      schema: { rawRetentionDays: 90, longRetentionDays: 0 },
      minBackoffMs: 200,
      maxBackoffMs: 1000,
    });
    writer.start();
    await new Promise((r) => setImmediate(r)); // every sleep resolved at once: the loop ran to the drained spool
    await stopped;
    // four refusals: delay = min/2 + random·ceiling, ceiling doubling from 200 ms up to the 1,000 ms cap
    const ceilings = [200, 400, 800, 1000];
    expect(sleeps.slice(0, 4).map((ms, i) => ms >= 100 && ms <= 100 + ceilings[i])).toEqual([true, true, true, true]);
    expect(influx.written).toEqual([['readings,device=d1 pm10=1 1000', 'readings,device=d1 pm10=2 2000']]);
    expect(spool.lines).toEqual([]);
    expect(writer.writing).toBe(true);
    expect(writer.lastError).toBeNull();
  });
});

describe('InfluxWriter roll-up of late hours', () => {
  it('rolls a backfill up a day at a time, only the late hours, and keeps hours whose roll-up failed until it succeeds', async () => {
    const HOUR = 3_600_000;
    const now = Date.UTC(2026, 10, 28, 12);
    const day1 = Date.UTC(2026, 10, 1);
    // 50 consecutive late hours from 1 November, and one stray hour on the 10th.
    const lines = [
      ...Array.from({ length: 50 }, (_, i) => `readings,device=d1 pm10=1 ${day1 + i * HOUR + 60_000}`),
      `readings,device=d1 pm10=1 ${Date.UTC(2026, 10, 10, 5) + 1}`,
    ];
    const statements: string[] = [];
    let failNext = 1;
    class RollUpInflux extends FlakyInflux {
      override async query(q?: string): Promise<never[]> {
        if (q?.startsWith('SELECT')) {
          if (failNext-- > 0) throw new Error('timeout');
          statements.push(q);
        }
        return [];
      }
    }
    const influx = new RollUpInflux(0);
    const spool = memorySpool(lines);
    let stopped: Promise<void> | null = null;
    let clock = now;
    const scheduler: Scheduler = {
      every: () => ({ cancel: () => undefined }),
      sleep: async (ms) => {
        clock += ms;
        if (spool.lines.length === 0 && !writer.rollUpPending) stopped ??= writer.stop();
      },
    };
    const writer = new InfluxWriter(spool, influx, new IngestMetrics(), { now: () => clock }, scheduler, silentLogger, {
      batchLines: 5000,
      maxDelayMs: 0,
      schema: { rawRetentionDays: 90, longRetentionDays: 0 },
    });
    writer.start();
    for (let i = 0; i < 100 && !stopped; i++) await new Promise((r) => setImmediate(r));
    await stopped;
    const ranges = statements.map((q) => /time >= (\d+)ms AND time < (\d+)ms/.exec(q)?.slice(1).map(Number));
    // The first attempt failed and was retried: 24 h, 24 h, 2 h, then the stray hour alone.
    expect(ranges).toEqual([
      [day1, day1 + 24 * HOUR],
      [day1 + 24 * HOUR, day1 + 48 * HOUR],
      [day1 + 48 * HOUR, day1 + 50 * HOUR],
      [Date.UTC(2026, 10, 10, 5), Date.UTC(2026, 10, 10, 6)],
    ]);
    expect(writer.rollUpPending).toBe(false);
  });
});

describe('InfluxWriter after a restart', () => {
  it('rolls up the hours the spool says are owed, then tells the spool they are done', async () => {
    const HOUR = 3_600_000;
    const owed = [Date.UTC(2026, 10, 3, 4), Date.UTC(2026, 10, 3, 5)];
    const statements: string[] = [];
    class RecordingInflux extends FlakyInflux {
      override async query(q?: string): Promise<never[]> {
        if (q?.startsWith('SELECT')) statements.push(q);
        return [];
      }
    }
    const done: number[][] = [];
    const spool = Object.assign(memorySpool([]), {
      pendingRollUps: async () => [...owed],
      rolledUp: async (hours: readonly number[]) => void done.push([...hours]),
    });
    let stopped: Promise<void> | null = null;
    const scheduler: Scheduler = {
      every: () => ({ cancel: () => undefined }),
      sleep: async () => {
        if (!writer.rollUpPending) stopped ??= writer.stop();
      },
    };
    const writer = new InfluxWriter(
      spool,
      new RecordingInflux(0),
      new IngestMetrics(),
      { now: () => Date.UTC(2026, 10, 28) },
      scheduler,
      silentLogger,
      {
        batchLines: 5000,
        maxDelayMs: 0,
        schema: { rawRetentionDays: 90, longRetentionDays: 0 },
      },
    );
    writer.start();
    for (let i = 0; i < 50 && !stopped; i++) await new Promise((r) => setImmediate(r));
    await stopped;
    expect(statements.map((q) => /time >= (\d+)ms AND time < (\d+)ms/.exec(q)?.slice(1).map(Number))).toEqual([
      [owed[0], owed[1] + HOUR],
    ]);
    expect(done).toEqual([owed]);
  });
});
