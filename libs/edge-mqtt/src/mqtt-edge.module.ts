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
  SCHEDULER,
  Scheduler,
  clustered,
  maxReadingAgeMs,
} from '@dustwatch/core';
import { BrokerConsumer } from './broker-consumer';
import { DeviceBroker } from './device-broker';
import { EmqxSessions } from './emqx-sessions';
import { MosquittoAccounts } from './mosquitto-accounts';
import { MqttAlertChannel } from './mqtt-alert.channel';

/** With DUSTWATCH_MQTT_BROKER_AUTH=mosquitto-dynsec: the device accounts, and the registry hands them each new secret. */
function mosquittoAccounts(
  c: IngestConfig,
  registry: RegistryService,
  scheduler: Scheduler,
  metrics: IngestMetrics,
  log: LoggerFactory,
): MosquittoAccounts | null {
  if (c.mqttBrokerAuth !== 'mosquitto-dynsec') return null;
  const accounts = new MosquittoAccounts(registry, scheduler, metrics, log.forContext('BrokerAccounts'), {
    url: c.mqttBrokerUrl!,
    username: c.mqttBrokerUsername!,
    password: c.mqttBrokerPassword!,
    instanceId: c.instanceId!,
  });
  registry.useBrokerAccounts(accounts);
  return accounts;
}

/** The MQTT device edge this instance runs: the embedded broker, or the external broker's consumer (several instances). */
export const MQTT_EDGE = Symbol('MqttEdge');

/**
 * The MQTT device edge — the embedded aedes broker, or with DUSTWATCH_MQTT_BROKER_URL the
 * consumer of an external broker (docs/cluster.md) — and the `alerts/{siteId}` notification
 * channel on it.
 */
@Global()
@Module({
  providers: [
    {
      provide: MQTT_EDGE,
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
        SCHEDULER,
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
        scheduler: Scheduler,
      ) =>
        clustered(c)
          ? new BrokerConsumer(
              registry,
              core,
              presence,
              metrics,
              clock,
              log.forContext('MqttConsumer'),
              {
                url: c.mqttBrokerUrl!,
                username: c.mqttBrokerUsername,
                password: c.mqttBrokerPassword,
                instanceId: c.instanceId!,
                consumers: c.mqttBrokerConsumers,
                maxReadingAgeMs: maxReadingAgeMs(c),
                clientEvents: c.mqttBrokerAuth === 'emqx-http',
              },
              mosquittoAccounts(c, registry, scheduler, metrics, log),
            )
          : new DeviceBroker(
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
      provide: EmqxSessions,
      inject: [CONFIG, RegistryService, IngestMetrics, LOGGER],
      useFactory: (c: IngestConfig, registry: RegistryService, metrics: IngestMetrics, log: LoggerFactory) =>
        c.emqxApiUrl
          ? new EmqxSessions(registry, metrics, log.forContext('EmqxSessions'), {
              url: c.emqxApiUrl,
              apiKey: c.emqxApiKey!,
              apiSecret: c.emqxApiSecret!,
            })
          : null,
    },
    {
      provide: MqttAlertChannel,
      inject: [MQTT_EDGE],
      useFactory: (edge: DeviceBroker | BrokerConsumer) => new MqttAlertChannel(edge),
    },
  ],
  exports: [MQTT_EDGE, MqttAlertChannel, EmqxSessions],
})
export class MqttEdgeModule {}
