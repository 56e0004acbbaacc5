/** The fleet view's pure parts: where a site goes on the drawing, and its colour by the PM10 rule levels. */

import type { components } from './api/schema';

type Schemas = components['schemas'];
export type FleetSite = Schemas['FleetSiteResponse'];
export type Level = Schemas['LevelResponse'];
export type PmLevels = Pick<Schemas['MetricLimitsResponse'], 'raise' | 'clear'>;

export type Colour = 'none' | 'good' | 'watch' | 'warning' | 'critical';

const meets = (l: Level, x: number): boolean =>
  l.op === '>=' ? x >= l.value : l.op === '>' ? x > l.value : l.op === '<=' ? x <= l.value : x < l.value;

/** Below the clear level good; between clear and the first raise level watch; then the raise levels' severities. */
export function colourOf(pm10: number | null, levels: PmLevels | undefined): Colour {
  if (pm10 === null || !levels) return 'none';
  for (const l of [...levels.raise].reverse())
    if (meets(l, pm10)) return l.severity === 'critical' ? 'critical' : 'warning';
  return meets(levels.clear, pm10) ? 'good' : 'watch';
}

/**
 * Sites on their coordinates without map tiles (none on the internet-less networks bureaus
 * run): an equirectangular projection of the fleet's bounding box into a width × height box,
 * with a margin, north up.
 */
export function project(
  sites: readonly FleetSite[],
  width: number,
  height: number,
  margin = 20,
): Map<string, { x: number; y: number }> {
  const lats = sites.map((s) => s.lat);
  const lons = sites.map((s) => s.lon);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  // Longitude degrees shrink with latitude: keep the map's proportions true.
  const kx = Math.cos(((minLat + maxLat) / 2) * (Math.PI / 180));
  const spanX = Math.max((maxLon - minLon) * kx, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = Math.min((width - 2 * margin) / spanX, (height - 2 * margin) / spanY);
  return new Map(
    sites.map((s) => [
      s.id,
      { x: margin + (s.lon - minLon) * kx * scale, y: height - margin - (s.lat - minLat) * scale },
    ]),
  );
}

/**
 * The fleet list's order, worst first: most critical alerts, then warnings, then monitors offline,
 * then the highest last-hour PM10 (sites without readings after those with), then by name.
 */
export function worstFirst(sites: readonly FleetSite[]): FleetSite[] {
  const pm10 = (s: FleetSite): number => s.pm10OneHour ?? -1;
  return [...sites].sort(
    (a, b) =>
      b.activeCritical - a.activeCritical ||
      b.activeWarning - a.activeWarning ||
      b.monitors - b.online - (a.monitors - a.online) ||
      pm10(b) - pm10(a) ||
      a.name.localeCompare(b.name, 'zh-CN'),
  );
}
