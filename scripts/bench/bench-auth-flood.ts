/**
 * bench:auth-flood — what unauthenticated CONNECTs and reconnect storms cost a real device.
 *
 * 1. Flood: a legitimate device (from 127.0.0.2) connects and publishes one reading, `samples`
 *    times, first on a quiet service (the baseline), then while 127.0.0.1 sends `flood` wrong-
 *    password CONNECTs at once plus `rate` more a second. Prints its CONNECT p50/p99/max and how
 *    long each reading took to be visible in InfluxDB, the refusals by reason and the log lines.
 * 2. Storm: `storm` devices, freshly imported, all (re)connect and publish one reading right after
 *    a restart of the service; prints the time until all are connected, acknowledged and in
 *    InfluxDB, the rate, and the service's RSS with every connection open. In the same run,
 *    `legacy` devices whose secrets are stored as the former scrypt hashes storm the same way
 *    (what every login cost before), then again once their hashes were migrated.
 *
 *    A second flood comes from a new source address per attempt (127.1.x.y), as a botnet would:
 *    no address reaches the throttle, so every attempt is checked — the cost of the check itself.
 *
 * 3. Sign-ins (issue 22): `guesses` wrong-password sign-ins for one name sent at once from one
 *    address, then `burst` at once for many names from one address; prints how many were
 *    checked (401) and throttled (429), and a legitimate person's sign-in latency from another
 *    address, quiet and during each burst.
 * 4. Descriptors (issue 22): the service under `ulimit -n <fd-limit>`; `fd-flood` idle HJ 212
 *    connections from 20 addresses; prints how many it accepted, its descriptors in use, and, quiet
 *    and during the flood, /health, a person's sign-in, and a device's CONNECT + reading.
 * 5. HJ 212 guesses (issue 25): a device logs in from 127.0.0.5, then `guess-seconds` of wrong-PW
 *    frames for its MN from that same address (10 connections at a time, 3 frames each: a
 *    connection is closed after 3); prints the guesses checked per second, and whether the
 *    device's right PW is still taken from a new address and from its own after the block.
 *
 *   npm run bench:auth-flood -- [--samples 40] [--flood 500] [--rate 50] [--storm 10000] [--legacy 400]
 *                               [--guesses 40] [--burst 200] [--fd-limit 4096] [--fd-flood 4000]
 *                               [--guess-seconds 10] [--phases flood,storm,signin,descriptors,hj212-guess]
 * BENCH_MAIN_JS=<other build>/main.js runs the same phases against another commit (before/after).
 */
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InfluxServer } from '../../apps/ingest/test/influx-server';
import { freePort } from '../../apps/ingest/test/free-port';
import { legacyScryptHash } from '../../libs/core/src/registry/secrets';
import {
  ADMIN_KEY,
  MAIN_JS,
  adminPost,
  arg,
  latencySummary,
  log,
  machine,
  peakRssMb,
  spawnService,
  stopChild,
  waitFor,
} from './common';
import { rawConnect, rawPublish } from './raw-device';
import { beijingTimestamp, frame } from '../../libs/telemetry/src';

const SAMPLES = arg('samples', 40);
const FLOOD = arg('flood', 500);
const RATE = arg('rate', 50);
const STORM = arg('storm', 10_000);
const LEGACY = arg('legacy', 400);
const phasesAt = process.argv.indexOf('--phases');
const PHASES =
  phasesAt >= 0 ? process.argv[phasesAt + 1].split(',') : ['flood', 'storm', 'signin', 'descriptors', 'hj212-guess'];
const GUESS_SECONDS = arg('guess-seconds', 10);
const GUESSES = arg('guesses', 40);
const BURST = arg('burst', 200);
const FD_LIMIT = arg('fd-limit', 4096);
const FD_FLOOD = arg('fd-flood', 4000);
const WINDOW = 500; // handshakes in flight: the accept backlog is 511

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

interface Env {
  influx: InfluxServer;
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  logLines: string[];
}

async function newEnv(influx: InfluxServer, dirPrefix: string): Promise<Env> {
  return {
    influx,
    dataDir: mkdtempSync(join(tmpdir(), dirPrefix)),
    httpPort: await freePort(),
    mqttPort: await freePort(),
    logLines: [],
  };
}

/** The device whose CONNECTs and readings are measured; its secret. */
async function provisionLegitimateDevice(base: string): Promise<string> {
  await adminPost(base, '/api/sites', { id: 'LEGIT', name: 'legit', district: 'Luzhou', lat: 36.2, lon: 113.1 });
  const device = { id: 'legit-0001', siteId: 'LEGIT', model: 'B', kind: 'site' };
  return (await adminPost<{ secret: string }>(base, '/api/devices', device)).secret;
}

function start(env: Env, openFileLimit?: number, extra: Record<string, string> = {}): ChildProcess {
  return spawnService(
    {
      DUSTWATCH_HTTP_PORT: String(env.httpPort),
      DUSTWATCH_MQTT_PORT: String(env.mqttPort),
      DUSTWATCH_DATA_DIR: env.dataDir,
      DUSTWATCH_INFLUX_URL: env.influx.url,
      DUSTWATCH_INFLUX_DB: 'bench',
      DUSTWATCH_LOG_FORMAT: 'json',
      DUSTWATCH_SNAPSHOT_SECONDS: '0',
      ...extra,
    },
    (line) => env.logLines.push(line),
    openFileLimit,
  );
}

/** POST /api/session from `localAddress`; the status and how long it took (ms), or -1 when the connection failed. */
function signIn(
  httpPort: number,
  name: string,
  password: string,
  localAddress: string,
): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const body = JSON.stringify({ name, password });
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: httpPort,
        localAddress,
        method: 'POST',
        path: '/api/session',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        agent: false,
        timeout: 60_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: -1, ms: performance.now() - started }));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

const byStatus = (results: readonly { status: number }[]): Record<string, number> =>
  results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

/** A person's sign-ins from 127.0.0.3, one after another, while `during` runs (or on a quiet service). */
async function legitimateSignIns(env: Env, samples: number, during?: Promise<unknown>) {
  const results: { status: number; ms: number }[] = [];
  for (let i = 0; i < samples; i++) {
    results.push(await signIn(env.httpPort, 'legit-person', 'legit-person-password-2026', '127.0.0.3'));
    if (during) await Promise.race([during, sleep(100)]);
  }
  return { statuses: byStatus(results), ms: latencySummary(results.map((r) => r.ms)) };
}

async function signInPhase(env: Env, base: string) {
  for (const name of ['legit-person', 'victim', ...Array.from({ length: 20 }, (_, i) => `person-${i}`)])
    await adminPost(base, '/api/users', { name, role: 'viewer', password: `${name}-password-2026` });
  const quiet = await legitimateSignIns(env, 5);
  // Parallel guesses for one name from one address: the throttle must count them before they are checked.
  const guesses = Promise.all(
    Array.from({ length: GUESSES }, (_, i) => signIn(env.httpPort, 'victim', `guess-${i}-aaaaaaaaaa`, '127.0.0.1')),
  );
  const duringGuesses = await legitimateSignIns(env, 5, guesses);
  const guessed = await guesses;
  // A burst for many names from one address: another person's check must not wait behind all of it.
  const burst = Promise.all(
    Array.from({ length: BURST }, (_, i) =>
      signIn(env.httpPort, `person-${i % 20}`, `wrong-${i}-bbbbbbbbbb`, '127.0.0.4'),
    ),
  );
  const duringBurst = await legitimateSignIns(env, 5, burst);
  const burstResults = await burst;
  return {
    quiet,
    parallelGuessesForOneName: {
      sent: GUESSES,
      statuses: byStatus(guessed),
      checked: guessed.filter((r) => r.status === 401).length,
      legitimatePerson: duringGuesses,
    },
    burstFromOneAddress: {
      sent: BURST,
      statuses: byStatus(burstResults),
      checked: burstResults.filter((r) => r.status === 401).length,
      legitimatePerson: duringBurst,
    },
  };
}

/** Opens an HJ 212 connection from `localAddress`, writes `frames`, resolves when it is closed or after `waitMs`. */
function hj212Send(port: number, localAddress: string, frames: string[], waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const s = createConnection({ host: '127.0.0.1', port, localAddress }, () => s.write(frames.join('')));
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(answer));
    s.setTimeout(waitMs, () => s.destroy());
  });
}

async function hj212GuessPhase(influx: InfluxServer) {
  const env = await newEnv(influx, 'dustwatch-bench-guess-');
  const hjPort = await freePort();
  const base = `http://127.0.0.1:${env.httpPort}`;
  const service = start(env, undefined, { DUSTWATCH_HJ212_PORT: String(hjPort) });
  const MN = 'CZ001BENCHGUESS';
  const PW = '246810';
  const dataFrame = (pw: string, qn: string): string =>
    frame(
      `QN=${qn};ST=39;CN=2011;PW=${pw};MN=${MN};Flag=5;CP=&&DataTime=${beijingTimestamp(Date.now() - 60_000)};a34002-Rtd=55&&`,
    );
  let qn = 0;
  const nextQn = (): string => `${beijingTimestamp(Date.now())}${String(qn++ % 1000).padStart(3, '0')}`;
  /** The right PW from `address`: answered (9014) or not. */
  const rightPw = async (address: string): Promise<boolean> =>
    (await hj212Send(hjPort, address, [dataFrame(PW, nextQn())], 3000)).includes('CN=9014');
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    await adminPost(base, '/api/fleet/import', {
      version: 1,
      sites: [
        {
          id: 'GUESS',
          name: 'guess',
          district: 'Luzhou',
          lat: 36.2,
          lon: 113.1,
          devices: [{ id: 'guess-1', model: 'B', kind: 'site', hj212: { mn: MN, password: PW } }],
        },
      ],
    });
    const loggedIn = await rightPw('127.0.0.5');
    const refusals = async (): Promise<Record<string, number>> => {
      const m = await metrics(base);
      const of = (reason: string): number =>
        m[`dustwatch_device_logins_refused_total{edge="hj212",reason="${reason}"}`] ?? 0;
      return { checked: of('bad_credentials'), throttled: of('throttled') };
    };
    const before = await refusals();
    const started = performance.now();
    let guess = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() - started < GUESS_SECONDS * 1000) {
        const frames = [0, 1, 2].map(() => dataFrame(String(100000 + (guess++ % 900000)), nextQn()));
        await hj212Send(hjPort, '127.0.0.5', frames, 2000);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    const seconds = (performance.now() - started) / 1000;
    const after = await refusals();
    const checked = after.checked - before.checked;
    return {
      deviceLoggedInFirst: loggedIn,
      guessesSent: guess,
      seconds: +seconds.toFixed(1),
      checked,
      throttledUnchecked: after.throttled - before.throttled,
      checkedPerSecond: +(checked / seconds).toFixed(1),
      sixDigitSpaceAtThatRateDays: +(1_000_000 / (checked / seconds) / 86_400).toFixed(2),
      rightPwFromNewAddress: await rightPw('127.0.0.6'),
    };
  } finally {
    await stopChild(service);
    rmSync(env.dataDir, { recursive: true, force: true });
  }
}

async function descriptorsPhase(influx: InfluxServer) {
  const env = await newEnv(influx, 'dustwatch-bench-fd-');
  const hjPort = await freePort();
  const base = `http://127.0.0.1:${env.httpPort}`;
  const service = start(env, FD_LIMIT, { DUSTWATCH_HJ212_PORT: String(hjPort), DUSTWATCH_LOG_LEVEL: 'log' });
  const sockets: Socket[] = [];
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    await adminPost(base, '/api/users', {
      name: 'legit-person',
      role: 'viewer',
      password: 'legit-person-password-2026',
    });
    const secret = await provisionLegitimateDevice(base);
    const descriptors = (): number => readdirSync(`/proc/${service.pid}/fd`).length;
    const health = async (): Promise<number> =>
      (await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) }).catch(() => null))?.status ?? -1;
    const probe = async () => ({
      health: await health(),
      person: await legitimateSignIns(env, 3),
      device: await legitimateDevice(env, secret, Date.now() - 1_800_000 - sockets.length * 60_000, 5),
    });
    const plan = env.logLines.find((l) => l.includes('file descriptors planned'));
    const quiet = { descriptors: descriptors(), ...(await probe()) };
    let failed = 0;
    for (let i = 0; i < FD_FLOOD; i += 200) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(200, FD_FLOOD - i) },
          (_, k) =>
            new Promise<Socket | null>((resolve) => {
              const s = createConnection({
                host: '127.0.0.1',
                port: hjPort,
                localAddress: `127.0.3.${((i + k) % 20) + 1}`,
              });
              s.once('connect', () => resolve(s));
              s.once('error', () => resolve(null));
              s.setTimeout(5000, () => (s.destroy(), resolve(null)));
            }),
        ),
      );
      for (const s of batch)
        if (s) sockets.push(s);
        else failed += 1;
    }
    await sleep(1000);
    const open = sockets.filter((s) => !s.destroyed).length;
    const during = { descriptors: descriptors(), ...(await probe()) };
    return {
      openFileLimit: FD_LIMIT,
      plan: plan ? JSON.parse(plan) : 'none logged (a build before issue 22)',
      flood: { sent: FD_FLOOD, fromAddresses: 20, stillOpenAfter1s: open, connectFailed: failed },
      quiet,
      duringFlood: during,
    };
  } finally {
    sockets.forEach((s) => s.destroy());
    await stopChild(service);
    rmSync(env.dataDir, { recursive: true, force: true });
  }
}

async function metrics(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const wanted =
    /^(dustwatch_device_logins_refused_total\{[^}]*\}|dustwatch_log_lines_suppressed_total\{[^}]*\}) (\S+)$/;
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => wanted.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], Number(m[2])]),
  );
}

/** The legitimate device: connect, publish one reading, wait until InfluxDB has it. */
async function legitimateDevice(env: Env, secret: string, tsBase: number, samples = SAMPLES) {
  const connects: number[] = [];
  const readings: number[] = [];
  let failures = 0;
  for (let i = 0; i < samples; i++) {
    const { code, socket, ms } = await rawConnect({
      port: env.mqttPort,
      id: 'legit-0001',
      secret,
      localAddress: '127.0.0.2',
      timeoutMs: 10_000,
    });
    if (code !== 0) {
      failures += 1;
      continue;
    }
    connects.push(ms);
    const ts = tsBase + i * 1000;
    const sent = performance.now();
    await rawPublish(socket, 'devices/legit-0001/readings', JSON.stringify({ ts, pm10: 40 + i }));
    await waitFor(
      async () =>
        (await env.influx.rows('bench', `SELECT pm10 FROM raw.readings WHERE device = 'legit-0001' AND time = ${ts}ms`))
          .length === 1,
      30_000,
      'the reading in InfluxDB',
    );
    readings.push(performance.now() - sent);
    socket.destroy();
    await sleep(50);
  }
  return {
    connectMs: latencySummary(connects),
    connectFailures: failures,
    readingToInfluxMs: latencySummary(readings),
  };
}

/**
 * Wrong-password CONNECTs, `FLOOD` at once, then `RATE` a second until stopped: from 127.0.0.1,
 * or each from an address of its own.
 */
function flood(env: Env, distributed: boolean): { stop(): Promise<number> } {
  let n = 0;
  const pending = new Set<Promise<unknown>>();
  const fire = (): void => {
    const localAddress = distributed ? `127.1.${Math.floor(n / 250) % 256}.${(n % 250) + 1}` : '127.0.0.1';
    const p = rawConnect({
      port: env.mqttPort,
      id: `atk-${n++}`,
      secret: 'wrong-password-0000',
      timeoutMs: 15_000,
      localAddress,
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  for (let i = 0; i < FLOOD; i++) fire();
  const timer = setInterval(fire, 1000 / RATE);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
      return n;
    },
  };
}

/** Every device connects and publishes one reading, WINDOW handshakes in flight. */
async function storm(env: Env, devices: { id: string; secret: string }[], ts: number) {
  const started = performance.now();
  let next = 0;
  let lastConnected = 0;
  let lastAcked = 0;
  let refused = 0;
  const sockets: import('node:net').Socket[] = [];
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const d = devices[next++];
      const { code, socket } = await rawConnect({ port: env.mqttPort, id: d.id, secret: d.secret, timeoutMs: 60_000 });
      if (code !== 0) {
        refused += 1;
        continue;
      }
      lastConnected = performance.now();
      sockets.push(socket);
      void rawPublish(socket, `devices/${d.id}/readings`, JSON.stringify({ ts, pm10: 50 })).then((ok) => {
        if (ok) lastAcked = performance.now();
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, devices.length) }, worker));
  return { started, sockets, refused, connectedS: () => (lastConnected - started) / 1000, ackedAt: () => lastAcked };
}

async function countIn(env: Env, ts: number): Promise<number> {
  const rows = await env.influx.rows('bench', `SELECT count(pm10) FROM raw.readings WHERE time = ${ts}ms`);
  return Number(rows[0]?.count ?? 0);
}

function fleetDocument(prefix: string, devices: { id: string; secret: string }[]) {
  const sites = [];
  for (let s = 0; s * 100 < devices.length; s++)
    sites.push({
      id: `${prefix}-S${s}`,
      name: `${prefix} site ${s}`,
      district: 'Luzhou',
      lat: 36.2,
      lon: 113.1,
      devices: devices
        .slice(s * 100, s * 100 + 100)
        .map((d) => ({ id: d.id, model: 'B', kind: 'site', secret: d.secret })),
    });
  return { version: 1, sites };
}

async function main(): Promise<void> {
  const influx = await InfluxServer.start();
  const env = await newEnv(influx, 'dustwatch-bench-auth-');
  const base = `http://127.0.0.1:${env.httpPort}`;
  let service = start(env);
  try {
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the service');
    const secret = await provisionLegitimateDevice(base);

    const floods: Record<string, unknown> = {};
    if (PHASES.includes('flood')) {
      log(`flood: legitimate device ×${SAMPLES}, quiet`);
      floods['quiet'] = { legitimateDevice: await legitimateDevice(env, secret, Date.now() - 3_600_000) };
      for (const distributed of [false, true]) {
        const before = await metrics(base);
        const logsBefore = env.logLines.length;
        log(
          `flood (${distributed ? 'an address per attempt' : 'one address'}): ${FLOOD} wrong-password CONNECTs at once + ${RATE}/s, legitimate device ×${SAMPLES}`,
        );
        const attack = flood(env, distributed);
        const attacked = await legitimateDevice(env, secret, Date.now() - (distributed ? 1_200_000 : 2_400_000));
        const attempts = await attack.stop();
        const after = await metrics(base);
        const floodLogs = env.logLines.slice(logsBefore);
        floods[distributed ? 'floodFromManyAddresses' : 'floodFromOneAddress'] = {
          legitimateDevice: attacked,
          attack: { wrongPasswordConnects: attempts, atOnce: FLOOD, perSecond: RATE },
          metricsDelta: Object.fromEntries(
            Object.entries(after)
              .map(([k, v]) => [k, v - (before[k] ?? 0)])
              .filter(([, v]) => v !== 0),
          ),
          logLines: floodLogs.length,
          connectRefusedLogLines: floodLogs.filter((l) => l.includes('MQTT CONNECT refused')).length,
        };
        await sleep(1000);
      }
    }
    const hardening: Record<string, unknown> = {};
    if (PHASES.includes('signin')) {
      log(`sign-ins: ${GUESSES} parallel guesses for one name, then a burst of ${BURST} from one address`);
      hardening['signIns'] = await signInPhase(env, base);
    }
    if (PHASES.includes('descriptors')) {
      log(`descriptors: a service under ulimit -n ${FD_LIMIT}, ${FD_FLOOD} idle HJ 212 connections`);
      hardening['descriptors'] = await descriptorsPhase(influx);
    }
    if (PHASES.includes('hj212-guess')) {
      log(`HJ 212 guesses: ${GUESS_SECONDS} s of wrong PWs for one MN from the address it logged in from`);
      hardening['hj212GuessesFromKnownAddress'] = await hj212GuessPhase(influx);
    }
    if (!PHASES.includes('storm')) {
      process.stdout.write(
        JSON.stringify({ machine: machine(), mainJs: MAIN_JS, flood: floods, ...hardening }, null, 2) + '\n',
      );
      return;
    }

    log(`storm: importing ${STORM} + ${LEGACY} devices`);
    const secretOf = (i: number): string => `storm-secret-${i}-${Math.random().toString(36).slice(2, 14)}`;
    const fleet = Array.from({ length: STORM }, (_, i) => ({
      id: `storm-${String(i).padStart(5, '0')}`,
      secret: secretOf(i),
    }));
    const legacy = Array.from({ length: LEGACY }, (_, i) => ({
      id: `legacy-${String(i).padStart(4, '0')}`,
      secret: secretOf(i),
    }));
    await adminPost(base, '/api/fleet/import', fleetDocument('STORM', fleet));
    await adminPost(base, '/api/fleet/import', fleetDocument('LEGACY', legacy));
    // The former scheme's hashes, written as an old release left them.
    const hashes = await Promise.all(legacy.map((d) => legacyScryptHash(d.secret)));
    const db = new Database(join(env.dataDir, 'dustwatch.db'));
    db.pragma('busy_timeout = 5000');
    const setHash = db.prepare('UPDATE devices SET secret_hash = ? WHERE id = ?');
    db.transaction(() => legacy.forEach((d, i) => setHash.run(hashes[i], d.id)))();
    db.close();

    log('storm: restarting the service');
    await stopChild(service);
    const restartedAt = performance.now();
    service = start(env);
    await waitFor(async () => (await fetch(`${base}/health`)).status === 200, 30_000, 'the restarted service');
    const readyS = (performance.now() - restartedAt) / 1000;
    const stormTs = Date.now() - 600_000;
    log(`storm: ${STORM} devices connect and publish`);
    const run = await storm(env, fleet, stormTs);
    const connectedS = run.connectedS();
    await waitFor(async () => (await countIn(env, stormTs)) >= STORM - run.refused, 120_000, 'every storm reading');
    const inInfluxS = (performance.now() - run.started) / 1000;
    const ackedS = (run.ackedAt() - run.started) / 1000;
    const rssAtConnections = rssMb(service.pid!);
    const connectedDevices = (
      (await (await fetch(`${base}/api/health`, { headers: { 'x-api-key': ADMIN_KEY } })).json()) as {
        broker: { connectedDevices: number };
      }
    ).broker.connectedDevices;
    for (const s of run.sockets) s.destroy();

    log(`storm: ${LEGACY} devices with former scrypt hashes, then again once migrated`);
    const legacyRuns = [];
    for (const pass of ['scrypt (former scheme, migrated at this login)', 'hmac (after migration)']) {
      await sleep(500);
      const ts = stormTs + 1000 * (legacyRuns.length + 1);
      const r = await storm(env, legacy, ts);
      const seconds = r.connectedS();
      for (const s of r.sockets) s.destroy();
      legacyRuns.push({
        pass,
        devices: LEGACY,
        refused: r.refused,
        connectSeconds: +seconds.toFixed(2),
        loginsPerS: Math.round(LEGACY / seconds),
      });
    }

    const result = {
      machine: machine(),
      mainJs: MAIN_JS,
      flood: floods,
      ...hardening,
      storm: {
        devices: STORM,
        refused: run.refused,
        serviceReadySeconds: +readyS.toFixed(2),
        allConnectedSeconds: +connectedS.toFixed(2),
        allAckedSeconds: +ackedS.toFixed(2),
        allInInfluxSeconds: +inInfluxS.toFixed(2),
        fromRestartToAllInInfluxSeconds: +(readyS + inInfluxS).toFixed(2),
        loginsPerS: Math.round(STORM / connectedS),
        connectedDevices,
        serviceRssMbAtConnections: Math.round(rssAtConnections),
        servicePeakRssMb: Math.round(peakRssMb(service.pid!)),
      },
      legacyBaseline: legacyRuns,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await stopChild(service);
    await influx.stop();
    rmSync(env.dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
