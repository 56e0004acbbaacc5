import { FrameSizeGuard, PacketTooLargeError } from './frame-size-guard';

function header(type: number, remaining: number): Buffer {
  const bytes = [type];
  do {
    let b = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) b |= 0x80;
    bytes.push(b);
  } while (remaining > 0);
  return Buffer.from(bytes);
}

describe('FrameSizeGuard', () => {
  it('passes packets up to the limit, across chunk boundaries', () => {
    const guard = new FrameSizeGuard(65536);
    const packet = Buffer.concat([
      header(0x30, 65536),
      Buffer.alloc(65536),
      header(0xc0, 0),
      header(0x30, 3),
      Buffer.from('abc'),
    ]);
    for (let i = 0; i < packet.length; i += 1000) expect(guard.scan(packet.subarray(i, i + 1000))).toBeNull();
  });

  it('refuses a packet whose header announces more than the limit, before its body arrives', () => {
    const guard = new FrameSizeGuard(65536);
    expect(guard.scan(header(0x30, 10))).toBeNull();
    expect(guard.scan(Buffer.alloc(10))).toBeNull();
    const error = guard.scan(header(0x30, 65537));
    expect(error).toBeInstanceOf(PacketTooLargeError);
    expect(error?.message).toBe('MQTT packet of 65537 bytes exceeds the 65536-byte limit');
  });

  it('refuses a Remaining Length of more than four bytes', () => {
    const guard = new FrameSizeGuard(Number.MAX_SAFE_INTEGER);
    expect(guard.scan(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80]))?.message).toBe(
      'malformed MQTT Remaining Length (more than 4 bytes)',
    );
  });
});
