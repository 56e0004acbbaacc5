import { Global, Module } from '@nestjs/common';
import { CONFIG, IngestConfig } from '@dustwatch/core';
import { WebhookChannel } from './webhook.channel';

/** Outbound webhooks (JSON, WeCom or DingTalk robot text); absent (null) when no URL is configured. */
@Global()
@Module({
  providers: [
    {
      provide: WebhookChannel,
      inject: [CONFIG],
      useFactory: (c: IngestConfig) =>
        c.webhookUrl ? new WebhookChannel(c.webhookUrl, c.webhookSecret!, c.webhookFormat, c.publicUrl) : null,
    },
  ],
  exports: [WebhookChannel],
})
export class NotifyModule {}
