import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DASHBOARDS, dashboardJson } from './dashboards';

/** Writes every dashboard as the JSON Grafana provisions (grafana/dashboards/<uid>.json). */
const out = resolve(__dirname, '../../../grafana/dashboards');
mkdirSync(out, { recursive: true });
for (const build of DASHBOARDS) {
  const d = build();
  writeFileSync(join(out, `${d.uid}.json`), dashboardJson(d));
  process.stdout.write(`wrote grafana/dashboards/${d.uid}.json (${d.panels.length} panels)\n`);
}
