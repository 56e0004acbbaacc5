import { ContextLogger, IngestMetrics, RegistryService } from '@dustwatch/core';

export interface EmqxSessionsOptions {
  /** EMQX 5's REST API, e.g. http://emqx:18083. */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/**
 * EMQX 5 checks each CONNECT with Dustwatch (BrokerHooks), but a session already open outlives a
 * disabled device or a rotated secret; EMQX's REST API ends it: DELETE /api/v5/clients/{clientid}
 * (HTTP basic auth with an API key). 404 means it was not connected. A failed call is logged
 * and counted; the device's next CONNECT is refused anyway.
 */
export class EmqxSessions {
  constructor(
    registry: RegistryService,
    private readonly metrics: IngestMetrics,
    private readonly logger: ContextLogger,
    private readonly options: EmqxSessionsOptions,
  ) {
    registry.onCredentialsRevoked((deviceId) => void this.kick(deviceId));
  }

  async kick(clientId: string): Promise<void> {
    const url = `${this.options.url.replace(/\/$/, '')}/api/v5/clients/${encodeURIComponent(clientId)}`;
    const auth = Buffer.from(`${this.options.apiKey}:${this.options.apiSecret}`).toString('base64');
    try {
      const res = await fetch(url, {
        method: 'DELETE',
        headers: { authorization: `Basic ${auth}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.status !== 204 && res.status !== 404) throw new Error(`EMQX answered ${res.status}`);
    } catch (error) {
      this.metrics.brokerAccountFailures.inc();
      this.logger.warn('revoked device not kicked at EMQX; its next CONNECT is refused', {
        deviceId: clientId,
        error: (error as Error).message,
      });
    }
  }
}
