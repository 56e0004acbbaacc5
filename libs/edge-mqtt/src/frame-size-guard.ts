export class PacketTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`MQTT packet of ${size} bytes exceeds the ${limit}-byte limit`);
    this.name = 'PacketTooLargeError';
  }
}

/**
 * Follows MQTT fixed headers as bytes stream past (MQTT 3.1.1 §2.2: one type byte, then a
 * 1–4 byte Remaining Length) and reports as soon as a header announces a packet over the
 * limit. The broker's parser would otherwise buffer up to 256 MB before anything could look at
 * the packet.
 */
export class FrameSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /** Advances the header state machine over one chunk; returns an error for an oversized packet. */
  scan(chunk: Buffer): Error | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const step = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= step;
        i += step;
        if (this.bodyLeft === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++];
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (this.length > this.maxRemainingLength) return new PacketTooLargeError(this.length, this.maxRemainingLength);
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return new Error('malformed MQTT Remaining Length (more than 4 bytes)');
        continue;
      }
      this.bodyLeft = this.length;
      this.state = this.bodyLeft === 0 ? 'type' : 'body';
    }
    return null;
  }
}
