import { MetricKey, Reading } from '@dustwatch/telemetry';
import { ContextLogger } from '../kernel/logger';

/** Readings the core has made durable; published after the commit, before the edge acknowledges. */
export interface ReadingsAccepted {
  readonly deviceId: string;
  readonly siteId: string;
  readonly edge: string;
  readonly readings: readonly Reading[];
  /** Per reading, its time and the compliance-valid values of the journalled metrics (what the rule windows take). */
  readonly samples: readonly { readonly ts: number; readonly values: Readonly<Partial<Record<MetricKey, number>>> }[];
  readonly receivedAt: number;
}

/**
 * In-process, synchronous fan-out of ReadingsAccepted (presence, rules). Hand-written: a Set of
 * listeners is all it needs, and a synchronous call keeps the hot path free of an event
 * library's allocations. A failing listener is logged and never reaches the edge: the readings
 * are already durable.
 */
export class ReadingsAcceptedBus {
  private readonly listeners: ((event: ReadingsAccepted) => void)[] = [];

  constructor(private readonly logger: ContextLogger) {}

  subscribe(listener: (event: ReadingsAccepted) => void): void {
    this.listeners.push(listener);
  }

  publish(event: ReadingsAccepted): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('a ReadingsAccepted listener failed', {
          deviceId: event.deviceId,
          error: (error as Error).message,
        });
      }
    }
  }
}
