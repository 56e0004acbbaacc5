import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { InfluxServer } from './influx-server';
import { TEST_DB, TestService, connectDevice, eventually, removeDir, startTestService } from './harness';

// The engineer's provisioning workflow with the built commands: generate a 152-site fleet with
// the simulator, import it with dustwatch-admin, connect a device with the file's secret.
const ROOT = resolve(__dirname, '../../..');
const SIM_CLI = join(ROOT, 'dist/devices-sim/devices-sim/src/cli.js');
const ADMIN_CLI = join(ROOT, 'dist/apps/ingest/apps/ingest/src/cli.js');

interface Fleet {
  sites: { id: string; devices: { id: string; secret: string }[] }[];
}

let influx: InfluxServer;
let service: TestService | null = null;
const dir = mkdtempSync(join(tmpdir(), 'dustwatch-fleet-'));
const dataDir = join(dir, 'data');
const fleetFile = join(dir, 'fleet.yaml');

function run(cli: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { ...process.env, DUSTWATCH_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  influx = await InfluxServer.start();
});

afterAll(async () => {
  await service?.stop();
  await influx?.stop();
  removeDir(dir);
});

it('generates, imports and connects the 152-site demo fleet; re-import changes nothing', async () => {
  expect(run(SIM_CLI, ['generate-fleet', '--sites', '152', '--seed', '7', '--out', fleetFile]).status).toBe(0);
  const fleet = parse(readFileSync(fleetFile, 'utf8')) as Fleet;
  const deviceCount = fleet.sites.reduce((n, s) => n + s.devices.length, 0);

  const first = run(ADMIN_CLI, ['import-fleet', fleetFile]);
  expect(first.status).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({
    sites: { created: 158, updated: 0 },
    devices: { created: deviceCount, updated: 0 },
    generatedSecrets: 0,
  });
  expect(first.stderr).toContain(`hashing device secrets ${deviceCount}/${deviceCount}`);

  service = await startTestService(influx, {}, dataDir);
  const sites = await service.api<{ id: string }[]>('GET', '/api/sites');
  expect(sites.body).toHaveLength(158);
  const devices = await service.api<{ id: string }[]>('GET', '/api/devices');
  expect(devices.body).toHaveLength(deviceCount);

  const device = fleet.sites[41].devices[0];
  const client = await connectDevice(service.mqttPort, device.id, device.secret);
  const closed = jest.fn();
  client.on('close', closed);
  const second = run(ADMIN_CLI, ['import-fleet', fleetFile]);
  expect(JSON.parse(second.stdout)).toMatchObject({
    sites: { created: 0, updated: 158 },
    devices: { created: 0, updated: deviceCount },
  });
  const ts = Date.now() - 60_000;
  await client.publishAsync(`devices/${device.id}/readings`, JSON.stringify({ ts, pm10: 42 }), { qos: 1 });
  const rows = await eventually(
    // The service creates the database just after it starts: until then the query fails ("not yet").
    () => influx.rows(TEST_DB, `SELECT pm10, site FROM raw.readings WHERE device = '${device.id}'`),
    (r) => r.length === 1,
    20_000,
    'the point',
  );
  expect(rows).toEqual([{ time: ts, pm10: 42, site: fleet.sites[41].id }]);
  expect(closed).not.toHaveBeenCalled();
  client.end(true);
});

it('refuses a bad fleet file, listing every problem, and changes nothing', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'version: 2\nsites:\n  - id: "a/b"\n    name: x\n    district: y\n    lat: 99\n    lon: 1\n    devices:\n      - { id: d1, model: m, kind: tower }\n      - { id: d1, model: m, kind: site, secret: short }\n',
  );
  const result = run(ADMIN_CLI, ['import-fleet', bad]);
  expect(result.status).toBe(1);
  expect(result.stderr.trim().split('\n')).toEqual([
    `${bad}: fleet file has 6 problem(s)`,
    '  - version: version must be one of the following values: 1',
    '  - sites[0].devices[0].kind: kind must be one of the following values: site, background',
    '  - sites[0].devices[1].secret: secret must be longer than or equal to 16 characters',
    '  - sites[0].id: id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (letters, digits, _ and -; no +, #, / or spaces)',
    '  - sites[0].lat: lat must not be greater than 90',
    '  - sites[0].devices[1].id: duplicate device id d1',
  ]);
  expect((await service!.api<unknown[]>('GET', '/api/sites')).body).toHaveLength(158);
});
