import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { join } from 'node:path';
import { IngestConfig } from './config/config';
import { CLOCK, CONFIG, Clock, MAIN_DB, SPOOL_DB, systemClock } from './core/tokens';
import { Db, MAIN_MIGRATIONS, SPOOL_MIGRATIONS, openDatabase } from './core/sqlite';
import { RuleSet, parseRuleSet } from '@dustwatch/rules';
import { AlertFeed } from './alerts/alert-feed';
import { AlertRepository } from './alerts/alert.repository';
import { AlertService } from './alerts/alert.service';
import { AlertsController } from './alerts/alerts.controller';
import { EvidenceReader } from './alerts/evidence';
import { RegistryDirectory } from './alerts/registry-directory';
import { RuleRunner } from './alerts/rule-runner';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeysController } from './auth/api-keys.controller';
import { ApiKeysRepository } from './auth/api-keys.repository';
import { InfluxAlertChannel, MqttAlertChannel, NotificationChannel, WebhookChannel } from './notify/channels';
import { NotificationDispatcher } from './notify/dispatcher';
import { DeviceBroker } from './broker/device-broker';
import { DeviceStatusRepository } from './ingest/device-status.repository';
import { InfluxWriter } from './ingest/influx-writer';
import { IngestService } from './ingest/ingest.service';
import { QuarantineRepository } from './ingest/quarantine.repository';
import { Spool } from './ingest/spool';
import { FleetSnapshot } from './ingest/fleet-snapshot';
import { InfluxHttpClient } from './influx/influx-http.client';
import { HealthService } from './observability/health';
import { JsonLogger } from './observability/json-logger';
import { IngestMetrics } from './observability/metrics';
import { ObservabilityController } from './observability/observability.controller';
import { RegistryController } from './registry/registry.controller';
import { RegistryRepository } from './registry/registry.repository';
import { RegistryService } from './registry/registry.service';

/** Readings older than the raw retention minus this margin are refused, so none is spooled that InfluxDB would drop. */
const RETENTION_MARGIN_MS = 3_600_000;

/**
 * Starts and stops the long-running parts in order: writer, rule engine (restored before any
 * reading arrives), notification dispatcher, broker; on shutdown the reverse.
 */
class Runtime implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(DeviceBroker) private readonly broker: DeviceBroker,
    @Inject(InfluxWriter) private readonly writer: InfluxWriter,
    @Inject(RuleRunner) private readonly rules: RuleRunner,
    @Inject(NotificationDispatcher) private readonly dispatcher: NotificationDispatcher,
    @Inject(FleetSnapshot) private readonly snapshot: FleetSnapshot,
    @Inject(CONFIG) private readonly config: IngestConfig,
    @Inject(Spool) private readonly spool: Spool,
    @Inject(DeviceStatusRepository) private readonly status: DeviceStatusRepository,
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(MAIN_DB) private readonly mainDb: Db,
    @Inject(SPOOL_DB) private readonly spoolDb: Db,
    @Inject(JsonLogger) private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.status.markAllOffline(this.clock.now());
    this.writer.start();
    this.rules.start();
    this.dispatcher.start();
    await this.broker.start();
    this.timer = setInterval(() => {
      this.status.flush();
      this.health.refreshGauges();
    }, 2000);
    this.timer.unref();
    if (this.config.snapshotSeconds > 0) {
      const snapshot = (): void => {
        this.snapshot.write(this.clock.now()).catch((error: Error) => this.logger.forContext('Runtime').warn('fleet snapshot not written', { error: error.message }));
      };
      snapshot();
      this.snapshotTimer = setInterval(snapshot, this.config.snapshotSeconds * 1000);
      this.snapshotTimer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    await this.broker.stop();
    this.rules.stop();
    await this.dispatcher.stop();
    this.spool.flush();
    await this.writer.stop();
    this.status.flush();
    this.logger.forContext('Runtime').log('dustwatch ingest stopped', { spoolDepth: this.spool.depth });
    this.mainDb.close();
    this.spoolDb.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: IngestConfig, logger: JsonLogger, clock: Clock = systemClock, ruleSet: RuleSet = parseRuleSet({})): DynamicModule {
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: CLOCK, useValue: clock },
      { provide: JsonLogger, useValue: logger },
      { provide: MAIN_DB, useFactory: () => openDatabase(join(config.dataDir, 'dustwatch.db'), MAIN_MIGRATIONS) },
      { provide: SPOOL_DB, useFactory: () => openDatabase(join(config.dataDir, 'spool.db'), SPOOL_MIGRATIONS, config.spoolSync) },
      { provide: IngestMetrics, useFactory: () => new IngestMetrics() },
      { provide: RegistryRepository, inject: [MAIN_DB], useFactory: (db: Db) => new RegistryRepository(db) },
      { provide: RegistryService, inject: [RegistryRepository], useFactory: (repo: RegistryRepository) => new RegistryService(repo, clock) },
      { provide: QuarantineRepository, inject: [MAIN_DB], useFactory: (db: Db) => new QuarantineRepository(db) },
      { provide: DeviceStatusRepository, inject: [MAIN_DB], useFactory: (db: Db) => new DeviceStatusRepository(db) },
      { provide: Spool, inject: [SPOOL_DB], useFactory: (db: Db) => new Spool(db, config.spoolQuotaMb * 1024 * 1024) },
      {
        provide: InfluxHttpClient,
        useFactory: () => new InfluxHttpClient({ url: config.influxUrl, database: config.influxDatabase, username: config.influxUsername, password: config.influxPassword, token: config.influxToken }),
      },
      {
        provide: InfluxWriter, inject: [Spool, InfluxHttpClient, IngestMetrics],
        useFactory: (spool: Spool, influx: InfluxHttpClient, metrics: IngestMetrics) => new InfluxWriter(spool, influx, metrics, clock, logger.forContext('InfluxWriter'), {
          batchLines: config.writeBatchLines,
          maxDelayMs: config.writeMaxDelayMs,
          schema: { rawRetentionDays: config.rawRetentionDays, longRetentionDays: config.longRetentionDays },
        }),
      },
      { provide: ApiKeysRepository, inject: [MAIN_DB], useFactory: (db: Db) => new ApiKeysRepository(db) },
      { provide: ApiKeyAuthenticator, inject: [ApiKeysRepository], useFactory: (keys: ApiKeysRepository) => new ApiKeyAuthenticator(config.adminApiKey, keys) },
      { provide: AlertRepository, inject: [MAIN_DB], useFactory: (db: Db) => new AlertRepository(db) },
      { provide: AlertFeed, useFactory: () => new AlertFeed() },
      {
        provide: AlertService, inject: [AlertRepository, AlertFeed, IngestMetrics],
        useFactory: (repo: AlertRepository, feed: AlertFeed, metrics: IngestMetrics) => new AlertService(repo, feed, [...(config.webhookUrl ? ['webhook'] : []), 'mqtt', 'influx'], clock, metrics),
      },
      { provide: EvidenceReader, inject: [InfluxHttpClient], useFactory: (influx: InfluxHttpClient) => new EvidenceReader(influx) },
      {
        provide: RuleRunner, inject: [RegistryRepository, Spool, DeviceStatusRepository, AlertRepository, AlertService, IngestMetrics],
        useFactory: (registry: RegistryRepository, spool: Spool, status: DeviceStatusRepository, repo: AlertRepository, alerts: AlertService, metrics: IngestMetrics) =>
          new RuleRunner(ruleSet, new RegistryDirectory(registry), spool, status, repo, alerts, clock, metrics, logger.forContext('Rules'), { tickMs: config.ruleTickMs, renotifyMinutes: config.alertRenotifyMinutes }),
      },
      {
        provide: IngestService, inject: [Spool, QuarantineRepository, DeviceStatusRepository, IngestMetrics, RuleRunner],
        useFactory: (spool: Spool, quarantine: QuarantineRepository, status: DeviceStatusRepository, metrics: IngestMetrics, rules: RuleRunner) =>
          new IngestService(spool, quarantine, status, metrics, rules, config.rawRetentionDays * 86_400_000 - RETENTION_MARGIN_MS),
      },
      {
        provide: DeviceBroker, inject: [RegistryService, IngestService, DeviceStatusRepository, IngestMetrics, ApiKeyAuthenticator],
        useFactory: (registry: RegistryService, ingest: IngestService, status: DeviceStatusRepository, metrics: IngestMetrics, apiKeys: ApiKeyAuthenticator) =>
          new DeviceBroker(registry, ingest, status, metrics, clock, logger.forContext('MqttBroker'), { host: config.mqttHost, port: config.mqttPort }, apiKeys),
      },
      {
        provide: NotificationDispatcher, inject: [AlertRepository, AlertFeed, DeviceBroker, InfluxHttpClient, IngestMetrics],
        useFactory: (repo: AlertRepository, feed: AlertFeed, broker: DeviceBroker, influx: InfluxHttpClient, metrics: IngestMetrics) => {
          const channels: NotificationChannel[] = [new MqttAlertChannel(broker), new InfluxAlertChannel(influx)];
          if (config.webhookUrl) channels.unshift(new WebhookChannel(config.webhookUrl, config.webhookSecret!, config.webhookFormat));
          return new NotificationDispatcher(repo, channels, feed, clock, metrics, logger.forContext('Notifications'), {
            maxAttempts: config.notifyMaxAttempts, baseDelayMs: config.notifyRetryBaseMs, maxDelayMs: config.notifyRetryMaxMs,
          });
        },
      },
      {
        provide: HealthService, inject: [DeviceBroker, Spool, InfluxWriter, InfluxHttpClient, IngestMetrics],
        useFactory: (broker: DeviceBroker, spool: Spool, writer: InfluxWriter, influx: InfluxHttpClient, metrics: IngestMetrics) => new HealthService(broker, spool, writer, influx, metrics, clock),
      },
      {
        provide: FleetSnapshot, inject: [RegistryRepository, DeviceStatusRepository, AlertRepository, Spool],
        useFactory: (registry: RegistryRepository, status: DeviceStatusRepository, alerts: AlertRepository, spool: Spool) => new FleetSnapshot(registry, status, alerts, spool),
      },
      ApiKeyGuard,
      Runtime,
    ];
    return { module: AppModule, providers, controllers: [RegistryController, AlertsController, ApiKeysController, ObservabilityController], exports: [RegistryService, DeviceBroker] };
  }
}
