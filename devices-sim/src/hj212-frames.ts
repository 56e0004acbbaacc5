import { METRICS, METRIC_KEYS, MetricKey, beijingTimestamp, frame, modbusSwappedCrc } from '@dustwatch/telemetry';

/** How a simulated monitor speaks HJ 212: its fleet entry's `hj212` block. */
export interface SimHj212 {
  readonly mn: string;
  readonly password: string;
  readonly crc?: 'hj212' | 'modbus-swapped';
  readonly units?: Readonly<Record<string, 'ug/m3' | 'mg/m3'>>;
}

type Reading = { ts: number; flags?: Record<string, string> } & Partial<Record<MetricKey, number>>;

/** A data segment with the device's CRC variant around it. */
export function deviceFrame(hj: SimHj212, data: string): string {
  if (hj.crc !== 'modbus-swapped') return frame(data);
  const crc = modbusSwappedCrc(data).toString(16).toUpperCase().padStart(4, '0');
  return `##${String(data.length).padStart(4, '0')}${data}${crc}\r\n`;
}

let sequence = 0;
/** QN: yyyyMMddHHmmssSSS of the send time, made unique within this process. */
export function nextQn(now: number): string {
  sequence = (sequence + 1) % 1000;
  return beijingTimestamp(now) + String(sequence).padStart(3, '0');
}

/**
 * One contract-v1 reading as the data command a monitor sends: real-time (CN 2011, `-Rtd`) when
 * live, minute data (CN 2051, `-Avg`) when it uploads its buffer (补传). Particulates in mg/m³
 * for a vendor set so.
 */
export function readingFrame(hj: SimHj212, reading: Reading, cn: '2011' | '2051', qn: string): string {
  const suffix = cn === '2011' ? 'Rtd' : 'Avg';
  const groups = [`DataTime=${beijingTimestamp(reading.ts)}`];
  for (const key of METRIC_KEYS) {
    const value = reading[key];
    if (value === undefined) continue;
    const code = METRICS[key].hj212Code === 'LA' && cn === '2051' ? 'Leq' : METRICS[key].hj212Code;
    const scaled = hj.units?.[code] === 'mg/m3' ? +(value / 1000).toFixed(6) : value;
    groups.push(`${code}-${suffix}=${scaled},${code}-Flag=${reading.flags?.[key] ?? 'N'}`);
  }
  return deviceFrame(hj, `QN=${qn};ST=39;CN=${cn};PW=${hj.password};MN=${hj.mn};Flag=5;CP=&&${groups.join(';')}&&`);
}

/** Frames a broken or sloppy monitor sends, each refused with its own reason (docs/hj212.md). */
export function brokenFrames(hj: SimHj212, now: number): string[] {
  const good = readingFrame(hj, { ts: now, pm10: 80 }, '2011', nextQn(now));
  return [
    good.replace(/[0-9A-F]{4}\r\n$/, '0000\r\n'), // crc_mismatch
    `##0999${good.slice(6)}`, // length_mismatch
    readingFrame(hj, { ts: now, pm10: -5 }, '2011', nextQn(now)), // out_of_range
    deviceFrame(
      hj,
      `QN=${nextQn(now)};ST=39;CN=2011;PW=${hj.password};MN=${hj.mn};Flag=5;CP=&&DataTime=20260931100000;a34002-Rtd=80&&`,
    ), // bad_timestamp
  ];
}
