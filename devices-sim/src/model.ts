import { gaussian, hashUnit, smoothNoise } from './noise';
import { localDayOfYear, localHour, localWeekday } from '@dustwatch/telemetry';

/** What the value model needs to know about a device. */
export interface ModelDevice {
  readonly id: string;
  readonly siteId: string;
  readonly district: string;
  readonly kind: 'site' | 'background';
  /** Construction site area, m²: larger sites raise more dust. */
  readonly areaM2?: number;
}

/** Scenario overlays the model applies (see scenarios.ts). Times in epoch ms. */
export interface Overlays {
  readonly dustEpisodes: readonly {
    siteId: string;
    start: number;
    rampMs: number;
    plateauMs: number;
    decayMs: number;
    peakPm10: number;
  }[];
  readonly regionalRises: readonly { district: string; start: number; durationMs: number; factor: number }[];
  readonly nightNoise: readonly { siteId: string; start: number; durationMs: number; levelDb: number }[];
}

export const NO_OVERLAYS: Overlays = { dustEpisodes: [], regionalRises: [], nightNoise: [] };

export interface ModelValues {
  pm25: number;
  pm10: number;
  tsp: number;
  noise: number;
  windSpeed: number;
  windDir: number;
  temperature: number;
  humidity: number;
  pressure: number;
}

const HOUR = 3_600_000;
const round1 = (v: number): number => Math.round(v * 10) / 10;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * Site activity 0–1: earthwork and machinery run 07:00–12:00 and 13:00–18:00 local time,
 * Monday to Saturday; nights and Sundays are quiet. Each site has its own intensity.
 */
export function activity(seed: number, device: ModelDevice, t: number): number {
  if (device.kind === 'background') return 0;
  const h = localHour(t);
  const working = localWeekday(t) !== 0 && ((h >= 7 && h < 12) || (h >= 13 && h < 18));
  if (!working) return 0;
  const intensity = 0.4 + 0.6 * hashUnit(seed, `intensity:${device.siteId}`, 0);
  // Work comes in bursts (loading, digging, trucks): half-hour variation.
  return clamp(intensity * (0.7 + 0.3 * smoothNoise(seed, `burst:${device.siteId}`, t, HOUR / 2)), 0, 1);
}

/** Wind shared by a district: calmer at night, strongest mid-afternoon. */
export function wind(seed: number, district: string, t: number): { speed: number; dir: number } {
  const h = localHour(t);
  const diurnal = 0.5 - 0.5 * Math.cos(((h - 3) / 24) * 2 * Math.PI); // 0 at 03:00, 1 at 15:00
  const speed = clamp(0.6 + 2.4 * diurnal + 1.5 * smoothNoise(seed, `wind:${district}`, t, 3 * HOUR), 0, 20);
  const dir = (((200 + 90 * smoothNoise(seed, `dir:${district}`, t, 6 * HOUR)) % 360) + 360) % 360;
  return { speed, dir };
}

/**
 * Regional background PM2.5 for a district: a seasonal level (winter heating raises it), a
 * diurnal cycle (night inversion, morning and evening peaks), multi-hour weather swings, and any
 * regional-rise scenario. Shared by every site and the background station of the district.
 */
export function backgroundPm25(seed: number, district: string, t: number, overlays: Overlays): number {
  const day = localDayOfYear(t);
  // Changzhi's PM2.5 is about 40 µg/m³ a year: ~56 in January (heating), ~20 in July.
  const seasonal = 38 + 18 * Math.cos(((day - 15) / 365) * 2 * Math.PI);
  const h = localHour(t);
  const diurnal = 1 + 0.15 * Math.cos(((h - 8) / 24) * 2 * Math.PI) + 0.1 * Math.cos(((h - 21) / 12) * 2 * Math.PI);
  const weather = 1 + 0.35 * smoothNoise(seed, `weather:${district}`, t, 8 * HOUR);
  let value = seasonal * diurnal * weather;
  for (const rise of overlays.regionalRises) {
    if (rise.district === district) value *= 1 + (rise.factor - 1) * bump(t, rise.start, rise.durationMs);
  }
  return value;
}

/** 0 outside [start, start + duration], rising and falling over the first and last hour. */
function bump(t: number, start: number, durationMs: number): number {
  if (t < start || t > start + durationMs) return 0;
  const edge = Math.min(HOUR, durationMs / 2);
  return Math.min(1, (t - start) / edge, (start + durationMs - t) / edge);
}

/** Extra PM10 of a dust episode: linear ramp, plateau, linear decay. */
export function episodeExcess(t: number, e: Overlays['dustEpisodes'][number]): number {
  const x = t - e.start;
  if (x < 0) return 0;
  if (x < e.rampMs) return e.peakPm10 * (x / e.rampMs);
  if (x < e.rampMs + e.plateauMs) return e.peakPm10;
  const y = x - e.rampMs - e.plateauMs;
  return y < e.decayMs ? e.peakPm10 * (1 - y / e.decayMs) : 0;
}

/**
 * One device's reading at time t, in the units and ranges of contract v1. A pure function of
 * (seed, device, t, overlays): the same inputs give the same reading in every mode.
 */
export function readingValues(
  seed: number,
  device: ModelDevice,
  t: number,
  overlays: Overlays = NO_OVERLAYS,
): ModelValues {
  const minute = Math.floor(t / 60_000);
  const w = wind(seed, device.district, t);
  const act = activity(seed, device, t);
  // Wind disperses site dust: the same work raises less PM at 5 m/s than in calm air.
  const dispersion = 1 / (1 + 0.35 * w.speed);
  const size = Math.sqrt((device.areaM2 ?? 10_000) / 10_000);
  const siteDust = act * 75 * size * dispersion;

  const bg25 = backgroundPm25(seed, device.district, t, overlays);
  let episode = 0;
  for (const e of overlays.dustEpisodes) if (e.siteId === device.siteId) episode += episodeExcess(t, e);
  const sensor = (k: string): number => 1 + 0.06 * gaussian(seed, `${k}:${device.id}`, minute);

  // Construction dust is coarse: it raises PM10 and TSP far more than PM2.5.
  let pm25 = (bg25 + 0.22 * siteDust + 0.2 * episode) * sensor('pm25');
  let pm10 = (bg25 / 0.55 + siteDust + episode) * sensor('pm10');
  const tsp =
    (pm10 * (1.5 + 0.3 * hashUnit(seed, `tspratio:${device.siteId}`, 0)) + 60 * act + 0.8 * episode) * sensor('tsp');
  // Real sensors now and then report PM2.5 above PM10 (0.5 % of readings here): a data-quality
  // signal the service must store, not refuse.
  if (hashUnit(seed, `violation:${device.id}`, minute) < 0.005) [pm25, pm10] = [pm10 * 1.05, pm25];

  // Work noise at the boundary: ~65 dB(A) at half activity, over the 70 dB(A) day limit only at
  // the busiest sites' peaks (GB 12523-2011), so noise-day alerts are the exception they are.
  let noise = 10 * Math.log10(10 ** (45 / 10) + (act > 0 ? 10 ** ((58 + 14 * act) / 10) : 0));
  const h = localHour(t);
  if (h >= 22 || h < 6) noise -= 4; // quieter city at night
  for (const n of overlays.nightNoise) {
    if (n.siteId === device.siteId && t >= n.start && t < n.start + n.durationMs)
      noise = 10 * Math.log10(10 ** (noise / 10) + 10 ** (n.levelDb / 10));
  }
  noise += 1.5 * gaussian(seed, `noise:${device.id}`, minute);

  const day = localDayOfYear(t);
  // Changzhi: about -6 °C in mid-January, 23 °C in mid-July; warmest at 15:00.
  const temperature =
    8.5 -
    14.5 * Math.cos(((day - 15) / 365) * 2 * Math.PI) +
    6 * Math.cos(((h - 15) / 24) * 2 * Math.PI) +
    2 * smoothNoise(seed, `temp:${device.district}`, t, 12 * HOUR);
  const humidity =
    55 - 18 * Math.cos(((h - 15) / 24) * 2 * Math.PI) + 12 * smoothNoise(seed, `rh:${device.district}`, t, 6 * HOUR);
  // Changzhi lies at about 930 m: station pressure near 91 kPa.
  const pressure =
    91.3 + 0.6 * smoothNoise(seed, 'pressure', t, 24 * HOUR) + 0.3 * Math.cos(((day - 15) / 365) * 2 * Math.PI);

  return {
    pm25: round1(clamp(pm25, 1, 19_000)),
    pm10: round1(clamp(pm10, 2, 19_000)),
    tsp: round1(clamp(tsp, 5, 49_000)),
    noise: round1(clamp(noise, 30, 130)),
    windSpeed: round1(w.speed),
    windDir: Math.round(w.dir),
    temperature: round1(clamp(temperature, -45, 55)),
    humidity: round1(clamp(humidity, 5, 99)),
    pressure: round1(clamp(pressure, 85, 100)),
  };
}
