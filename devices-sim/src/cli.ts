import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { stringify } from 'yaml';
import { parseDuration, parseInstant } from './duration';
import { expectationsFor } from './expectations';
import { generateFleet } from './fleet';
import { loadFleetDevices } from './fleet-file';
import { connectAll, percentile, runLoad } from './load';
import { NO_OVERLAYS } from './model';
import { FleetConnection, STABLE_CONNECTION_MS, SimulatorError, backfillFleet, runFleet } from './runner';
import { Scenario, ScenarioError, overlaysOf, parseScenarios } from './scenarios';

const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
};
const shareOf = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a fraction from 0 to 1');
  return n;
};
const hostPort = (value: string): { host: string; port: number } => {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError('must be host:port, e.g. 127.0.0.1:9212');
  return { host: m[1], port: Number(m[2]) };
};
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const duration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw new InvalidArgumentError('must look like 90s, 10m, 2h or 1d');
  return ms;
};
const instant = (value: string): number => {
  const t = parseInstant(value);
  if (t === null) throw new InvalidArgumentError('must be ISO 8601 with an offset, e.g. 2026-03-01T08:00:00+08:00');
  return t;
};

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('\nstopping: waiting for outstanding PUBACKs (Ctrl-C again to quit at once)\n');
});

function out(json: boolean, summary: Record<string, unknown>, human: string): void {
  process.stdout.write(json ? JSON.stringify(summary, null, 2) + '\n' : human + '\n');
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** A status line redrawn in place on a terminal; a log line every 10 s otherwise. */
function statusPrinter(render: () => string): { tick: () => void; done: () => void } {
  let last = 0;
  return {
    tick: () => {
      const now = Date.now();
      if (process.stderr.isTTY) {
        if (now - last < 250) return;
        last = now;
        process.stderr.write(`\r\x1b[2K${render()}`);
      } else if (now - last >= 10_000) {
        last = now;
        process.stderr.write(`${new Date(now).toISOString()} ${render()}\n`);
      }
    },
    done: () => {
      if (process.stderr.isTTY) process.stderr.write('\n');
    },
  };
}

function loadScenarios(
  file: string | undefined,
  start: number,
  devices: ReturnType<typeof loadFleetDevices>,
): Scenario[] {
  if (!file) return [];
  const known = {
    sites: new Set(devices.map((d) => d.siteId)),
    devices: new Set(devices.map((d) => d.id)),
    districts: new Set(devices.map((d) => d.district)),
  };
  return parseScenarios(readFileSync(file, 'utf8'), start, known);
}

const program = new Command()
  .name('devices-sim')
  .description(
    'Dustwatch device simulator. Speaks to the service exactly as site monitors do: MQTT 3.1.1 with each ' +
      "device's own credentials from a fleet file, reading contract v1 (docs/reading-contract-v1.md). Values follow a " +
      'deterministic model (same --seed and times give the same readings): regional background per district, diurnal cycles, ' +
      'site activity 07-12 and 13-18 Mon-Sat, wind dispersion, PM2.5 < PM10 < TSP with rare sensor violations, noise with ' +
      "activity and night, weather. Engineer's guide: docs/simulator.md.",
  )
  .showHelpAfterError();

program
  .command('generate-fleet')
  .description(
    'Write a deterministic fleet file (YAML): construction sites around Changzhi (large sites get two monitors) plus one background station per district. The ingest service imports the same file (dustwatch-admin import-fleet).',
  )
  .option('--sites <n>', 'number of construction sites', positiveInt, 152)
  .option('--seed <n>', 'random seed: the same seed gives the same fleet and the same demo secrets', positiveInt, 1)
  .option('--hj212-share <fraction>', 'share of site monitors that also get an HJ 212 identity (MN, PW)', shareOf, 0)
  .option('--out <file>', 'output file (default: standard output)')
  .action((options: { sites: number; seed: number; hj212Share: number; out?: string }) => {
    const fleet = generateFleet(options.sites, options.seed, options.hj212Share);
    const devices = fleet.sites.reduce((n, s) => n + s.devices.length, 0);
    const header = [
      `# Dustwatch demo fleet: ${options.sites} construction sites + ${fleet.sites.length - options.sites} background stations, ${devices} devices (seed ${options.seed}).`,
      '# The secrets below are for demos and tests only. Never use them for real devices.',
      '# Format: docs/fleet-file.md',
      '',
    ].join('\n');
    const text = header + stringify(fleet, { lineWidth: 0 });
    if (options.out) {
      writeFileSync(options.out, text);
      process.stderr.write(`wrote ${options.out}: ${fleet.sites.length} sites, ${devices} devices\n`);
    } else {
      process.stdout.write(text);
    }
  });

interface RunFlags {
  fleet: string;
  url: string;
  seed: number;
  interval: number;
  speed: number;
  start?: number;
  duration?: number;
  scenario?: string;
  historyFrom?: number;
  window: number;
  hj212?: { host: string; port: number };
  json?: boolean;
}

program
  .command('run')
  .description(
    'Play the fleet live (--speed 1, one reading per device every --interval seconds) or accelerated (--speed 60 plays an hour a minute; readings are stamped in simulated time). Accelerated runs start in the past by default so they end about now: the service refuses readings stamped more than 5 minutes ahead of its clock.',
  )
  .requiredOption('--fleet <file>', "fleet file with each device's secret")
  .option('--url <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--seed <n>', 'model seed', positiveInt, 1)
  .option('--interval <seconds>', 'seconds between readings of one device (HJ 212 allows 30-3600)', positiveInt, 60)
  .option('--speed <factor>', 'simulated seconds per real second', positiveNumber, 1)
  .option('--start <iso>', 'simulated start (default: now, or now minus --duration when --speed > 1)', instant)
  .option('--duration <d>', 'simulated length, e.g. 30m, 6h (default: until Ctrl-C; 1h when --speed > 1)', duration)
  .option('--scenario <file>', 'scenario file (YAML/JSON, docs/simulator.md)')
  .option(
    '--history-from <iso>',
    "the fleet's readings before the start were sent from this time (a backfill): the expectations count them",
    instant,
  )
  .option('--window <n>', 'PUBACKs a device may await at once (mqtt.js message ids are 16-bit)', positiveInt, 16)
  .option(
    '--hj212 <host:port>',
    'HJ 212 listener: devices with an hj212 entry in the fleet file upload HJ 212-2017 there instead of MQTT',
    hostPort,
  )
  .option('--json', 'print the final summary as JSON')
  .action(async (flags: RunFlags) => {
    const devices = loadFleetDevices(flags.fleet);
    const durationMs = flags.duration ?? (flags.speed > 1 ? 3_600_000 : Number.MAX_SAFE_INTEGER / 4);
    const start = flags.start ?? (flags.speed > 1 ? Date.now() - durationMs : Date.now());
    const scenarios = loadScenarios(flags.scenario, start, devices);
    const overlays = overlaysOf(scenarios);
    const wallStart = Date.now();
    const expectations = expectationsFor(
      scenarios,
      flags.seed,
      devices,
      overlays,
      flags.interval * 1000,
      (t) => wallStart + (t - start) / flags.speed,
      Math.min(flags.historyFrom ?? start, start),
    );
    for (const e of expectations) process.stderr.write(`expect: ${e.text}\n`);
    const fleet = new FleetConnection(flags.url, devices, flags.window, flags.hj212);
    await fleet.connectAll();
    const status = statusPrinter(() => {
      const s = fleet.stats;
      const refused = Object.values(s.refusedByReason).reduce((a, b) => a + b, 0);
      return `connected ${s.connected}/${s.devices} | sent ${fmt(s.messagesSent)} | acked ${fmt(s.messagesAcked)} | refused ${fmt(refused)} | sim ${new Date(simNow).toISOString().slice(0, 16)}Z ×${flags.speed}${s.earlyDrops > 0 ? ` | dropped right after connecting ${fmt(s.earlyDrops)} (same ids in use elsewhere?)` : ''}`;
    });
    let simNow = start;
    const result = await runFleet(fleet, {
      seed: flags.seed,
      intervalMs: flags.interval * 1000,
      speed: flags.speed,
      start,
      end: start + durationMs,
      scenarios,
      overlays,
      shouldStop: () => interrupted,
      onTick: (t) => {
        simNow = t;
        status.tick();
      },
    });
    const drained = await fleet.drain(interrupted ? 10_000 : 60_000);
    status.done();
    const connectedAtEnd = fleet.stats.connected;
    await fleet.close();
    const summary = {
      mode: 'run',
      ...fleet.stats,
      connected: connectedAtEnd,
      simulatedFrom: new Date(result.simulatedFrom).toISOString(),
      simulatedTo: new Date(result.simulatedTo).toISOString(),
      wallSeconds: (Date.now() - wallStart) / 1000,
      stoppedEarly: result.stoppedEarly,
      drained,
      expectations,
    };
    out(
      Boolean(flags.json),
      summary,
      `run: ${fmt(fleet.stats.readingsAcked)} readings acknowledged from ${fleet.stats.devices} devices (${fleet.stats.hj212Devices} over HJ 212) (${summary.simulatedFrom} → ${summary.simulatedTo}), refused ${JSON.stringify(fleet.stats.refusedByReason)}, reconnects ${fleet.stats.reconnects}${drained ? '' : ', NOT all acknowledged before the timeout'}${earlyDropsHint(fleet.stats)}`,
    );
  });

/** Connections closed right after they were accepted, with no refusal, mean a second client on the same ids. */
function earlyDropsHint(stats: { earlyDrops: number }): string {
  return stats.earlyDrops === 0
    ? ''
    : `\nwarning: the service closed ${fmt(stats.earlyDrops)} connections within ${STABLE_CONNECTION_MS / 1000} s of accepting them without refusing any login: another client (a second simulator, or start-embedded's demo) is probably playing the same device ids`;
}

interface BackfillFlags {
  fleet: string;
  url: string;
  seed: number;
  interval: number;
  from: number;
  to: number;
  window: number;
  json?: boolean;
}

program
  .command('backfill')
  .description(
    'Publish historic readings for a period as fast as the service acknowledges them (arrays of up to 500 per message), with a progress bar and ETA. The service refuses readings older than its raw retention (90 days by default).',
  )
  .requiredOption('--fleet <file>', "fleet file with each device's secret")
  .requiredOption('--from <iso>', 'first reading time', instant)
  .requiredOption('--to <iso>', 'end of the period (exclusive)', instant)
  .option('--url <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--seed <n>', 'model seed', positiveInt, 1)
  .option('--interval <seconds>', 'seconds between readings of one device', positiveInt, 60)
  .option('--window <n>', 'messages a device may have awaiting PUBACK', positiveInt, 4)
  .option('--json', 'print the final summary as JSON')
  .action(async (flags: BackfillFlags) => {
    if (flags.to <= flags.from) throw new SimulatorError('--to must be after --from');
    const devices = loadFleetDevices(flags.fleet);
    const fleet = new FleetConnection(flags.url, devices, flags.window);
    await fleet.connectAll();
    const started = Date.now();
    let shownTotal = 0;
    const bar = statusPrinter(() => {
      const done = fleet.stats.readingsAcked;
      const elapsed = (Date.now() - started) / 1000;
      const rate = done / Math.max(elapsed, 0.001);
      const eta = rate > 0 ? (shownTotal - done) / rate : Infinity;
      const pct = shownTotal > 0 ? done / shownTotal : 0;
      const width = 30;
      return `[${'#'.repeat(Math.round(pct * width)).padEnd(width, '.')}] ${(pct * 100).toFixed(1)}% ${fmt(done)}/${fmt(shownTotal)} readings, ${fmt(Math.round(rate))}/s, ETA ${Number.isFinite(eta) ? `${Math.ceil(eta)} s` : '?'}`;
    });
    const result = await backfillFleet(fleet, {
      seed: flags.seed,
      intervalMs: flags.interval * 1000,
      from: flags.from,
      to: flags.to,
      overlays: NO_OVERLAYS,
      onProgress: (_done, total) => {
        shownTotal = total;
        bar.tick();
      },
      shouldStop: () => interrupted,
    });
    const drained = await fleet.drain(10_000);
    bar.done();
    await fleet.close();
    const seconds = (Date.now() - started) / 1000;
    const summary = {
      mode: 'backfill',
      ...fleet.stats,
      readingsPlanned: result.total,
      from: new Date(flags.from).toISOString(),
      to: new Date(flags.to).toISOString(),
      seconds,
      readingsPerSecond: Math.round(fleet.stats.readingsAcked / seconds),
      stoppedEarly: result.stoppedEarly,
      drained,
    };
    out(
      Boolean(flags.json),
      summary,
      `backfill: ${fmt(fleet.stats.readingsAcked)} of ${fmt(result.total)} readings acknowledged in ${seconds.toFixed(1)} s (${fmt(summary.readingsPerSecond)}/s)`,
    );
  });

interface LoadFlags {
  fleet: string;
  url: string;
  devices?: number;
  perDevice: number;
  window: number;
  json?: boolean;
}

program
  .command('load')
  .description(
    'Maximum throughput: each device publishes single readings at QoS 1 as fast as PUBACKs return, with at most --window in flight per device. Prints msgs/s, the PUBACK latency histogram (p50/p90/p99/max) and errors. bench:ingest drives the same code.',
  )
  .requiredOption('--fleet <file>', "fleet file with each device's secret")
  .option('--url <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--devices <n>', 'use the first n devices of the fleet (default: all)', positiveInt)
  .option('--per-device <n>', 'readings per device', positiveInt, 1000)
  .option('--window <n>', 'PUBACKs a device may await at once', positiveInt, 32)
  .option('--json', 'print the summary as JSON')
  .action(async (flags: LoadFlags) => {
    const devices = loadFleetDevices(flags.fleet).slice(0, flags.devices);
    const url = new URL(flags.url);
    const clients = await connectAll(Number(url.port || 1883), devices, url.hostname).catch(
      (error: Error & { code?: number | string }) => {
        throw new SimulatorError(
          typeof error.code === 'number'
            ? `the broker refused a device (CONNACK ${error.code})`
            : `cannot reach the broker at ${flags.url} (${error.code ?? error.message})`,
        );
      },
    );
    const result = await runLoad(
      clients,
      devices.map((d) => d.id),
      flags.perDevice,
      flags.window,
      Date.now() - 3_600_000,
    );
    for (const c of clients) c.end(true);
    const sorted = result.latenciesMs.slice().sort();
    const latency = {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
    };
    const summary = {
      mode: 'load',
      devices: devices.length,
      messages: result.messages,
      acked: result.acked,
      errors: result.errors,
      seconds: result.seconds,
      msgsPerSecond: Math.round(result.acked / result.seconds),
      pubackLatencyMs: latency,
    };
    const ms = (v: number): string => v.toFixed(1);
    out(
      Boolean(flags.json),
      summary,
      `load: ${fmt(result.acked)}/${fmt(result.messages)} acknowledged in ${result.seconds.toFixed(2)} s = ${fmt(summary.msgsPerSecond)} msg/s, errors ${result.errors}\nPUBACK latency ms: p50 ${ms(latency.p50)}  p90 ${ms(latency.p90)}  p99 ${ms(latency.p99)}  max ${ms(latency.max)}`,
    );
  });

program
  .command('explain')
  .description(
    'Print what the service should do for each scenario of a file (computed from the same model the run uses), without connecting.',
  )
  .requiredOption('--fleet <file>', 'fleet file')
  .requiredOption('--scenario <file>', 'scenario file')
  .option('--start <iso>', "the run's start, for relative times (default: now)", instant)
  .option('--seed <n>', 'model seed', positiveInt, 1)
  .option('--interval <seconds>', 'seconds between readings', positiveInt, 60)
  .option('--json', 'print as JSON')
  .action(
    (flags: { fleet: string; scenario: string; start?: number; seed: number; interval: number; json?: boolean }) => {
      const devices = loadFleetDevices(flags.fleet);
      const start = flags.start ?? Date.now();
      const scenarios = loadScenarios(flags.scenario, start, devices);
      // Readings start with the run: no window fills before it.
      const expectations = expectationsFor(
        scenarios,
        flags.seed,
        devices,
        overlaysOf(scenarios),
        flags.interval * 1000,
        (t) => t,
        start,
      );
      out(Boolean(flags.json), { expectations }, expectations.map((e) => `- ${e.kind}: ${e.text}`).join('\n'));
    },
  );

program.parseAsync(process.argv).catch((error: Error) => {
  // Expected failures (bad flags, unreachable broker, refused credentials, bad files) get one clear line, no stack trace.
  const expected =
    error instanceof SimulatorError ||
    error instanceof ScenarioError ||
    /ENOENT|not a fleet file|has no secret/.test(error.message);
  process.stderr.write(`devices-sim: ${expected ? error.message : (error.stack ?? error.message)}\n`);
  process.exit(1);
});
