import { createHash } from 'node:crypto';
import { SimHj212 } from './hj212-frames';
import { seededRandom } from './random';

export interface FleetDevice {
  id: string;
  model: string;
  kind: 'site' | 'background';
  secret: string;
  /** The monitor also uploads HJ 212 over TCP (docs/hj212.md). */
  hj212?: SimHj212;
}

export interface FleetSite {
  id: string;
  name: string;
  district: string;
  lat: number;
  lon: number;
  areaM2?: number;
  devices: FleetDevice[];
}

export interface FleetFile {
  version: 1;
  sites: FleetSite[];
}

/**
 * Changzhi's county-level districts that host most construction, with rough centres; `name` is the
 * district as the bureau writes it (site and report rows show it). The city centre (潞州区, Luzhou)
 * is about 36.19 N, 113.12 E; the weights make the core districts busier.
 */
export const DISTRICTS: ReadonlyArray<{ id: string; name: string; lat: number; lon: number; weight: number }> = [
  { id: 'LUZHOU', name: '潞州区', lat: 36.195, lon: 113.117, weight: 5 },
  { id: 'SHANGDANG', name: '上党区', lat: 36.053, lon: 113.056, weight: 2 },
  { id: 'TUNLIU', name: '屯留区', lat: 36.316, lon: 112.892, weight: 1.5 },
  { id: 'LUCHENG', name: '潞城区', lat: 36.334, lon: 113.229, weight: 1.5 },
  { id: 'XIANGYUAN', name: '襄垣县', lat: 36.535, lon: 113.05, weight: 1 },
  { id: 'ZHANGZI', name: '长子县', lat: 36.122, lon: 112.877, weight: 1 },
];

/** Project kinds as Chinese site boards name them (the console and bulletins are read in Chinese). */
const KINDS = ['住宅小区项目', '道路改造工程', '商业综合体项目', '市政管网工程', '学校建设项目', '医院扩建工程'];
const MODELS = ['YZ-DM300', 'HJ-DUST-2', 'SK-FC500'];
/** Sites above this area get a second monitor. */
const LARGE_SITE_M2 = 40_000;

/** Demo secrets are derived from the seed so a regenerated file still matches an imported registry. */
function demoSecret(seed: number, deviceId: string): string {
  return createHash('sha256').update(`dustwatch-demo:${seed}:${deviceId}`).digest('base64url').slice(0, 32);
}

/**
 * A demo HJ 212 identity for a share of the site monitors, decided by a hash of the device id
 * (not the fleet's random stream, so the rest of a fleet stays what it was): an MN of 12–14
 * characters and a 6-digit PW, both derived from the seed.
 */
function demoHj212(seed: number, deviceId: string, model: string, share: number): FleetDevice['hj212'] {
  const hash = createHash('sha256').update(`dustwatch-demo-hj212:${seed}:${deviceId}`).digest();
  if (hash.readUInt32BE(0) / 2 ** 32 >= share) return undefined;
  return {
    mn: `${deviceId.replace(/-/g, '')}HJ212`,
    password: String(hash.readUInt32BE(4) % 1_000_000).padStart(6, '0'),
    // Vendors differ as real ones do: one sends a byte-swapped MODBUS CRC, one reports PM in mg/m³.
    ...structuredClone(VENDOR_HJ212[model] ?? {}), // a copy each: no YAML anchors in the file
  };
}

const VENDOR_HJ212: Readonly<Record<string, Partial<SimHj212>>> = {
  'SK-FC500': { crc: 'modbus-swapped' },
  'HJ-DUST-2': { units: { a34001: 'mg/m3', a34002: 'mg/m3', a34004: 'mg/m3' } },
};

/**
 * A deterministic fleet: `siteCount` construction sites spread over the districts (one monitor,
 * two on large sites) plus one background (reference) station per district. `hj212Share` of the
 * site monitors also get an HJ 212 identity (a mixed fleet is the realistic case).
 */
export function generateFleet(siteCount: number, seed: number, hj212Share = 0): FleetFile {
  const random = seededRandom(seed);
  const totalWeight = DISTRICTS.reduce((sum, d) => sum + d.weight, 0);
  const sites: FleetSite[] = [];
  for (let i = 1; i <= siteCount; i++) {
    let pick = random() * totalWeight;
    const district = DISTRICTS.find((d) => (pick -= d.weight) < 0) ?? DISTRICTS[0];
    const id = `CZ-${String(i).padStart(3, '0')}`;
    const areaM2 = Math.round((3000 + random() ** 2 * 60_000) / 100) * 100;
    const monitors = areaM2 > LARGE_SITE_M2 ? 2 : 1;
    const model = MODELS[Math.floor(random() * MODELS.length)];
    sites.push({
      id,
      name: `${district.name}${KINDS[Math.floor(random() * KINDS.length)]} ${String(i).padStart(3, '0')}`,
      district: district.name,
      lat: round(district.lat + (random() - 0.5) * 0.12, 5),
      lon: round(district.lon + (random() - 0.5) * 0.14, 5),
      areaM2,
      devices: Array.from({ length: monitors }, (_, m) => {
        const deviceId = `${id}-M${m + 1}`;
        const hj212 = demoHj212(seed, deviceId, model, hj212Share);
        return {
          id: deviceId,
          model,
          kind: 'site' as const,
          secret: demoSecret(seed, deviceId),
          ...(hj212 ? { hj212 } : {}),
        };
      }),
    });
  }
  for (const district of DISTRICTS) {
    const id = `BG-${district.id}`;
    const deviceId = `${id}-1`;
    sites.push({
      id,
      name: `${district.name}背景站`,
      district: district.name,
      lat: district.lat,
      lon: district.lon,
      devices: [{ id: deviceId, model: 'REF-BAM-1020', kind: 'background', secret: demoSecret(seed, deviceId) }],
    });
  }
  return { version: 1, sites };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
