/**
 * Timers behind a port: the writer's backoff, the rule tick, the presence flush and the
 * dispatcher's retry poll take it by injection, so a test can run them without waiting.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Calls `fn` every `ms` until cancelled. Never keeps the process alive by itself. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Resolves after `ms`, or at once when `signal` is raised. */
  sleep(ms: number, wake?: WakeSignal): Promise<void>;
}

/** Cuts a sleep short: the writer's idle wait ends when a reading is committed. */
export class WakeSignal {
  private listener: (() => void) | null = null;
  raise(): void {
    const l = this.listener;
    this.listener = null;
    l?.();
  }
  /** @internal used by schedulers */
  onRaise(listener: (() => void) | null): void {
    this.listener = listener;
  }
}

export const systemScheduler: Scheduler = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
  sleep(ms, wake) {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wake?.onRaise(null);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake?.onRaise(done);
    });
  },
};
