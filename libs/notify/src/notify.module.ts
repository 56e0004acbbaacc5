import { Global, Module } from '@nestjs/common';
import { CONFIG, IngestConfig, TIMESTAMP_AUTHORITY } from '@dustwatch/core';
import { Rfc3161Client } from './rfc3161.client';
import { WebhookChannel } from './webhook.channel';

/**
 * Outbound HTTP: webhooks (JSON, WeCom or DingTalk robot text) and the RFC 3161 time-stamping
 * authority for evidence roots; each absent (null) when no URL is configured.
 */
@Global()
@Module({
  providers: [
    {
      provide: WebhookChannel,
      inject: [CONFIG],
      useFactory: (c: IngestConfig) =>
        c.webhookUrl ? new WebhookChannel(c.webhookUrl, c.webhookSecret!, c.webhookFormat, c.publicUrl) : null,
    },
    {
      provide: TIMESTAMP_AUTHORITY,
      inject: [CONFIG],
      useFactory: (c: IngestConfig) => (c.tsaUrl ? new Rfc3161Client(c.tsaUrl) : null),
    },
  ],
  exports: [WebhookChannel, TIMESTAMP_AUTHORITY],
})
export class NotifyModule {}
