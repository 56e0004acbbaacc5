import { RendererBusyError } from '@dustwatch/core';
import { RenderSlots } from './render-slots';

describe('render slots', () => {
  it('runs one at a time with three waiting, refuses the fifth at once, and frees the slots in order', async () => {
    const slots = new RenderSlots(1, 3, 5);
    const gates: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (i: number) => () =>
      new Promise<number>((resolve) => {
        running += 1;
        most = Math.max(most, running);
        gates.push(() => {
          running -= 1;
          order.push(i);
          resolve(i);
        });
      });
    const served = [0, 1, 2, 3].map((i) => slots.run(job(i)));
    const fifth = slots.run(job(4));
    await expect(fifth).rejects.toBeInstanceOf(RendererBusyError);
    await expect(fifth).rejects.toMatchObject({ retryAfterSeconds: 5 });
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setImmediate(r));
      expect(gates).toHaveLength(i + 1); // the next starts only when the one before ended
      gates[i]();
    }
    expect(await Promise.all(served)).toEqual([0, 1, 2, 3]);
    expect([most, order]).toEqual([1, [0, 1, 2, 3]]);
    expect(await slots.run(async () => 'free again')).toBe('free again');
  });
});
