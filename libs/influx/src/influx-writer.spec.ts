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
