/**
 * HJ 212-2017 §6.3.3 CRC over the data segment's bytes: start 0xFFFF; per byte
 * crc = (crc >> 8) ^ byte, then eight shifts with 0xA001 on a carried-out 1. Not CRC-16/MODBUS,
 * which XORs the byte into the low byte: a library CRC rejects real packets.
 */
export function hj212Crc(data: string): number {
  let crc = 0xffff;
  for (let i = 0; i < data.length; i++) {
    crc = (crc >> 8) ^ (data.charCodeAt(i) & 0xff);
    for (let bit = 0; bit < 8; bit++) {
      const carry = crc & 1;
      crc >>= 1;
      if (carry) crc ^= 0xa001;
    }
  }
  return crc;
}

/**
 * The variant some vendors send instead: CRC-16/MODBUS printed with its bytes swapped (MODBUS
 * sends the low byte first; these devices print the two bytes in wire order).
 */
export function modbusSwappedCrc(data: string): number {
  let crc = 0xffff;
  for (let i = 0; i < data.length; i++) {
    crc ^= data.charCodeAt(i) & 0xff;
    for (let bit = 0; bit < 8; bit++) {
      const carry = crc & 1;
      crc >>= 1;
      if (carry) crc ^= 0xa001;
    }
  }
  return ((crc & 0xff) << 8) | (crc >> 8);
}

export type Hj212CrcVariant = 'hj212' | 'modbus-swapped';
export const CRC_VARIANTS: readonly Hj212CrcVariant[] = ['hj212', 'modbus-swapped'];

export const crcOf = (variant: Hj212CrcVariant, data: string): number =>
  variant === 'hj212' ? hj212Crc(data) : modbusSwappedCrc(data);

export const crcHex = (crc: number): string => crc.toString(16).toUpperCase().padStart(4, '0');

/** Which variant a frame's CRC (hex, any case) matches, or null for neither. */
export function crcVariantOf(data: string, sent: string): Hj212CrcVariant | null {
  if (!/^[0-9A-Fa-f]{4}$/.test(sent)) return null;
  const value = parseInt(sent, 16);
  return CRC_VARIANTS.find((variant) => crcOf(variant, data) === value) ?? null;
}
