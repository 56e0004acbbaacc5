import { ReadingsDecoder, contractV1Decoder } from '@dustwatch/telemetry';
import {
  Clock,
  ContextLogger,
  DeviceFeedback,
  IngestCore,
  IngestMetrics,
  RateLimitedLog,
  SpoolFullError,
} from '@dustwatch/core';

/**
 * One `devices/{id}/readings` PUBLISH, on either MQTT edge (the embedded broker's hook or the
 * external broker's consumer): decode contract v1, hand the command to the core, and resolve
 * only when the readings are durable — the caller acknowledges (PUBACK) then, never before.
 */
export class MqttReadingsHandler {
  private readonly decoder: ReadingsDecoder = contractV1Decoder;

  constructor(
    private readonly ingest: IngestCore,
    private readonly metrics: IngestMetrics,
    private readonly clock: Clock,
    private readonly logger: ContextLogger,
    private readonly warnings: RateLimitedLog,
    private readonly edge: string,
    private readonly maxReadingAgeMs: number,
  ) {}

  /** Resolves with what to tell the device (null: nothing); rejects when the readings must not be acknowledged. */
  async handle(deviceId: string, siteId: string, payload: Buffer): Promise<DeviceFeedback | null> {
    const receivedAt = this.clock.now();
    const decoded = this.decoder.decode(payload, { deviceId, receivedAt, maxAgeMs: this.maxReadingAgeMs });
    try {
      const outcome = await this.ingest.execute({
        deviceId,
        siteId,
        edge: this.edge,
        readings: decoded.readings,
        rejections: decoded.rejections,
        warnings: decoded.warnings,
        receivedAt,
        raw: payload,
      });
      if (outcome.rejections.length === 0 && outcome.warnings.length === 0) return null;
      return {
        accepted: outcome.accepted,
        rejected: outcome.rejections.map((r) => ({ index: r.index, reasons: r.reasons })),
        warnings: outcome.warnings,
      };
    } catch (error) {
      if (error instanceof SpoolFullError) {
        this.metrics.publishesRefused.inc({ reason: 'spool_full' });
        this.warnings.warn(
          'spool-full',
          'SPOOL AT QUOTA: readings are NOT acknowledged until InfluxDB drains the backlog',
          {
            deviceId,
            error: error.message,
          },
        );
      } else {
        this.metrics.publishesRefused.inc({ reason: 'internal_error' });
        this.logger.error('ingest failed; reading not acknowledged', { deviceId, error: (error as Error).message });
      }
      throw error;
    }
  }
}

/** The body of a `devices/{id}/errors` message (contract v1): warnings only when there are some. */
export function feedbackBody(feedback: DeviceFeedback): string {
  return JSON.stringify(
    feedback.warnings.length > 0 ? feedback : { accepted: feedback.accepted, rejected: feedback.rejected },
  );
}
