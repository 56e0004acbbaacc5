/** HJ 212-2017 §6.3: `##` + 4-digit length + data segment (≤ 1,024) + 4 hex CRC + CR LF. */
export const MAX_DATA_SEGMENT = 1024;
const HEADER = 6; // ## + 4 digits
const TRAILER = 6; // CRC + \r\n

export type FrameEvent =
  | { kind: 'frame'; data: string; crc: string; raw: string }
  | { kind: 'refused'; code: 'bad_length' | 'frame_too_long' | 'length_mismatch'; message: string; raw: string }
  | { kind: 'garbage'; bytes: number };

/**
 * Reassembles frames from a TCP stream that splits and joins them anywhere. After anything that
 * is not a frame it resynchronises on the next `##`. It never holds more than one frame's worth
 * (1,036 characters) plus one chunk: a sender that never completes a frame costs that much, no
 * more. Frames are ASCII in practice; bytes are read as latin1 so a stray byte counts as one.
 */
export class Hj212Framer {
  private buffer = '';

  push(chunk: Buffer): FrameEvent[] {
    this.buffer += chunk.toString('latin1');
    const events: FrameEvent[] = [];
    for (;;) {
      let start = this.buffer.indexOf('##');
      while (start >= 0 && this.buffer[start + 2] === '#') start++; // '###0101…': the frame starts at the last two
      if (start < 0) {
        // Keep a trailing '#': it may be the first half of the next frame's start.
        const keep = this.buffer.endsWith('#') ? 1 : 0;
        if (this.buffer.length - keep > 0) events.push({ kind: 'garbage', bytes: this.buffer.length - keep });
        this.buffer = this.buffer.slice(this.buffer.length - keep);
        return events;
      }
      if (start > 0) {
        events.push({ kind: 'garbage', bytes: start });
        this.buffer = this.buffer.slice(start);
      }
      if (this.buffer.length < HEADER) return events;
      const digits = this.buffer.slice(2, HEADER);
      if (!/^\d{4}$/.test(digits)) {
        events.push(this.refuse('bad_length', `length field "${digits}" is not 4 digits`, HEADER, 2));
        continue;
      }
      const length = Number(digits);
      if (length > MAX_DATA_SEGMENT) {
        events.push(
          this.refuse('frame_too_long', `data segment of ${length} > ${MAX_DATA_SEGMENT} characters`, HEADER, 2),
        );
        continue;
      }
      const total = HEADER + length + TRAILER;
      if (this.buffer.length < total) {
        // A new frame starting early means this one was shorter than it said.
        const next = this.buffer.indexOf('##', 2);
        if (next < 0) return events;
        events.push(
          this.refuse(
            'length_mismatch',
            `declared ${length} characters, next frame starts after ${next - HEADER}`,
            next,
            next,
          ),
        );
        continue;
      }
      if (this.buffer.slice(total - 2, total) !== '\r\n') {
        const end = this.buffer.indexOf('\r\n', HEADER);
        const cut = end >= 0 && end < total ? end + 2 : total;
        events.push(
          this.refuse('length_mismatch', `declared ${length} characters, the frame does not end there`, cut, 2),
        );
        continue;
      }
      const raw = this.buffer.slice(0, total);
      this.buffer = this.buffer.slice(total);
      events.push({
        kind: 'frame',
        data: raw.slice(HEADER, HEADER + length),
        crc: raw.slice(HEADER + length, total - 2),
        raw,
      });
    }
  }

  /** Characters held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffer.length;
  }

  /**
   * @param shown characters kept as the refused frame's raw text
   * @param consumed characters dropped: only the `##` when what follows may hold the next frame
   */
  private refuse(
    code: 'bad_length' | 'frame_too_long' | 'length_mismatch',
    message: string,
    shown: number,
    consumed: number,
  ): FrameEvent {
    const raw = this.buffer.slice(0, Math.min(shown, HEADER + MAX_DATA_SEGMENT + TRAILER));
    this.buffer = this.buffer.slice(consumed);
    return { kind: 'refused', code, message, raw };
  }
}
