import { Global, Module } from '@nestjs/common';
import {
  ApiKeyAuthenticator,
  DeviceLogin,
  CLOCK,
  CONFIG,
  Clock,
  IngestConfig,
  IngestCore,
  IngestMetrics,
  LOGGER,
  LoggerFactory,
  Presence,
  RegistryService,
  maxReadingAgeMs,
} from '@dustwatch/core';
import { DeviceBroker } from './device-broker';
import { MqttAlertChannel } from './mqtt-alert.channel';

/** The embedded aedes broker as a device edge, and the `alerts/{siteId}` notification channel on it. */
@Global()
@Module({
  providers: [
    {
      provide: DeviceBroker,
      inject: [
        RegistryService,
        IngestCore,
        Presence,
        IngestMetrics,
        CLOCK,
        LOGGER,
        CONFIG,
        ApiKeyAuthenticator,
        DeviceLogin,
      ],
      useFactory: (
        registry: RegistryService,
        core: IngestCore,
        presence: Presence,
        metrics: IngestMetrics,
        clock: Clock,
        log: LoggerFactory,
        c: IngestConfig,
        apiKeys: ApiKeyAuthenticator,
        logins: DeviceLogin,
      ) =>
        new DeviceBroker(
          registry,
          core,
          presence,
          metrics,
          clock,
          log.forContext('MqttBroker'),
          {
            host: c.mqttHost,
            port: c.mqttPort,
            maxReadingAgeMs: maxReadingAgeMs(c),
            maxConnections: c.mqttMaxConnections,
            maxConnectionsPerAddress: c.mqttMaxConnectionsPerAddress,
          },
          apiKeys,
          logins,
        ),
    },
    {
      provide: MqttAlertChannel,
      inject: [DeviceBroker],
      useFactory: (broker: DeviceBroker) => new MqttAlertChannel(broker),
    },
  ],
  exports: [DeviceBroker, MqttAlertChannel],
})
export class MqttEdgeModule {}
