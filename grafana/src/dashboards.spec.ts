import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DASHBOARDS, dashboardJson } from './dashboards';
import { DATASOURCE } from './model';

const DIR = join(__dirname, '../dashboards');

describe('provisioned dashboards', () => {
  it('the committed JSON is exactly what the typed source generates (run `npm run grafana:generate` after a change)', () => {
    const generated = DASHBOARDS.map((build) => build());
    expect(readdirSync(DIR).sort()).toEqual(generated.map((d) => `${d.uid}.json`).sort());
    for (const d of generated) expect(readFileSync(join(DIR, `${d.uid}.json`), 'utf8')).toBe(dashboardJson(d));
  });

  it('fixed uids, unique panel ids, every panel on the provisioned data source with a raw InfluxQL query', () => {
    const generated = DASHBOARDS.map((build) => build());
    expect(generated.map((d) => d.uid)).toEqual(['dustwatch-fleet-now', 'dustwatch-site', 'dustwatch-compliance']);
    for (const d of generated) {
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      for (const p of d.panels) {
        expect(p.datasource).toEqual(DATASOURCE);
        expect(p.targets.length).toBeGreaterThan(0);
        for (const t of p.targets) expect(t.query).toMatch(/^SELECT .+ FROM /);
      }
    }
  });

  it("the data source provisioning points at the dashboards' uid and takes every secret from the environment", () => {
    const ds = parse(readFileSync(join(__dirname, '../provisioning/datasources/influxdb.yaml'), 'utf8')) as {
      datasources: Record<string, unknown>[];
    };
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]).toMatchObject({
      uid: DATASOURCE.uid,
      type: 'influxdb',
      url: '${DUSTWATCH_INFLUX_URL}',
      user: '${DUSTWATCH_INFLUX_USERNAME}',
      jsonData: { dbName: '${DUSTWATCH_INFLUX_DB}' },
      secureJsonData: { password: '${DUSTWATCH_INFLUX_PASSWORD}' },
    });
    const providers = parse(readFileSync(join(__dirname, '../provisioning/dashboards/dustwatch.yaml'), 'utf8')) as {
      providers: { folder: string; options: { path: string } }[];
    };
    expect(providers.providers[0]).toMatchObject({
      folder: 'Dustwatch',
      options: { path: '/var/lib/grafana/dashboards/dustwatch' },
    });
  });
});
