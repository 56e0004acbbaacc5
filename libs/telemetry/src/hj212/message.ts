import { SHANGHAI_OFFSET_MS, shanghaiWallTimeToEpochMs } from '../local-time';
import { Hj212CrcVariant, crcHex, crcOf } from './crc';

/** The header fields of a data segment (HJ 212-2017 §6.3.2) and its CP (command parameters). */
export interface Hj212Message {
  readonly qn: string | undefined;
  readonly st: string | undefined;
  readonly cn: string;
  readonly pw: string | undefined;
  readonly mn: string | undefined;
  /** Bit 0 (A): an answer is wanted; bit 1 (D): split, with PNUM/PNO; upper bits: version. */
  readonly flag: number;
  readonly pnum: number | undefined;
  readonly pno: number | undefined;
  /** CP's content between `&&` and `&&`. */
  readonly cp: string;
}

export const wantsAnswer = (m: Hj212Message): boolean => (m.flag & 1) === 1;

/** Parses `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;CP=&&…&&`; null when there is no CN or no CP. */
export function parseMessage(data: string): Hj212Message | null {
  const cpAt = data.indexOf('CP=&&');
  if (cpAt < 0 || !data.endsWith('&&') || data.length < cpAt + 7) return null;
  const fields = new Map<string, string>();
  for (const part of data.slice(0, cpAt).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const cn = fields.get('CN');
  if (!cn || !/^\d{4}$/.test(cn)) return null;
  const int = (key: string): number | undefined => {
    const value = fields.get(key);
    return value !== undefined && /^\d{1,4}$/.test(value) ? Number(value) : undefined;
  };
  return {
    qn: fields.get('QN'),
    st: fields.get('ST'),
    cn,
    pw: fields.get('PW'),
    mn: fields.get('MN'),
    flag: int('Flag') ?? 0,
    pnum: int('PNUM'),
    pno: int('PNO'),
    cp: data.slice(cpAt + 5, data.length - 2),
  };
}

/** A whole frame around a data segment, with the CRC the device expects. */
export function frame(data: string, variant: Hj212CrcVariant = 'hj212'): string {
  return `##${String(data.length).padStart(4, '0')}${data}${crcHex(crcOf(variant, data))}\r\n`;
}

/** `yyyyMMddHHmmss` in Beijing time (UTC+8), as DataTime and SystemTime are written. */
export function beijingTimestamp(t: number, withMs = false): string {
  const iso = new Date(t + SHANGHAI_OFFSET_MS).toISOString(); // 2026-11-28T08:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return withMs ? digits + iso.slice(20, 23) : digits;
}

/** `yyyyMMddHHmmss` Beijing time → epoch ms; null when it names no real instant. */
export function parseBeijingTimestamp(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  return shanghaiWallTimeToEpochMs(year, month, day, hour, minute, second);
}

/** The data answer (CN 9014): the same QN, ST 91, Flag 4, empty CP (HJ 212-2017 §6.6). */
export function dataAnswer(m: Hj212Message, variant: Hj212CrcVariant): string {
  return frame(`QN=${m.qn ?? ''};ST=91;CN=9014;PW=${m.pw ?? ''};MN=${m.mn ?? ''};Flag=4;CP=&&&&`, variant);
}

/** Sets the device's clock (CN 1012) to `now`, in Beijing time; addressed as the device's own message was. */
export function setTimeCommand(m: Hj212Message, now: number, variant: Hj212CrcVariant): string {
  return frame(
    `QN=${beijingTimestamp(now, true)};ST=${m.st ?? ''};CN=1012;PW=${m.pw ?? ''};MN=${m.mn ?? ''};Flag=5;CP=&&SystemTime=${beijingTimestamp(now)}&&`,
    variant,
  );
}
