/** What a device is told after a payload: how many readings were taken and why others were not. */
export interface DeviceFeedback {
  readonly accepted: number;
  readonly rejected: readonly { index: number | null; reasons: readonly unknown[] }[];
  /** Accepted readings with something to fix (contract v1: a flag for a metric not sent). */
  readonly warnings: readonly { index: number | null; code: string; field: string; message: string }[];
}

/**
 * A way devices connect (the embedded MQTT broker today; HJ 212 over TCP next). An edge decodes,
 * authenticates and delegates to the ingest core; it starts after every store is ready and stops
 * first, so nothing is acknowledged that cannot be kept.
 */
export interface DeviceEdge {
  readonly name: string;
  readonly listening: boolean;
  readonly port: number | null;
  readonly connectedCount: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Drops a device's connection (credentials rotated or device disabled). */
  disconnect(deviceId: string): void;
}
