import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import {
  AlertFeed,
  CLOCK,
  Clock,
  CoreModule,
  DEVICE_EDGES,
  DeviceEdge,
  HealthService,
  IngestMetrics,
  KernelModule,
  KernelOptions,
  LOGGER,
  LoggerFactory,
  NOTIFICATION_CHANNELS,
  NotificationChannel,
  NotificationDispatcher,
  OUTBOX_STORE,
  OutboxStore,
  QUARANTINE_STORE,
  QuarantineStore,
  READINGS_STORE,
  ReadingsStore,
  SCHEDULER,
  Scheduler,
  TIME_SERIES_HEALTH,
  TimeSeriesHealth,
  CONFIG,
  IngestConfig,
  REPORT_RENDERER,
  REPORT_STORE,
  ReportSchedule,
  ReportService,
  ReportStore,
  carriesReports,
  STORE_SET,
  StoreSet,
} from '@dustwatch/core';
import { ApiModule } from '@dustwatch/api';
import { MQTT_EDGE, MqttAlertChannel, MqttEdgeModule } from '@dustwatch/edge-mqtt';
import { Hj212EdgeModule, Hj212Listener } from '@dustwatch/edge-hj212';
import { InfluxAlertChannel, InfluxModule } from '@dustwatch/influx';
import { NotifyModule, WebhookChannel } from '@dustwatch/notify';
import { BulletinRenderer } from '@dustwatch/report-formats';
import { SqliteSpoolModule } from '@dustwatch/store-sqlite';
import { Lifecycle } from './lifecycle';
import { StoresModule } from './stores.module';

/**
 * What fans in from several adapters: the device edges (health, lifecycle) and the notification
 * channels (dispatcher), the report renderer and schedule. Global, so the API and the core see them.
 */
@Global()
@Module({
  providers: [
    {
      provide: DEVICE_EDGES,
      inject: [MQTT_EDGE, Hj212Listener],
      useFactory: (mqtt: DeviceEdge, hj212: Hj212Listener | null): DeviceEdge[] => [mqtt, ...(hj212 ? [hj212] : [])],
    },
    {
      provide: NOTIFICATION_CHANNELS,
      inject: [WebhookChannel, MqttAlertChannel, InfluxAlertChannel],
      useFactory: (
        webhook: WebhookChannel | null,
        mqtt: MqttAlertChannel,
        influx: InfluxAlertChannel,
      ): NotificationChannel[] => [...(webhook ? [webhook] : []), mqtt, influx],
    },
    {
      provide: HealthService,
      inject: [DEVICE_EDGES, READINGS_STORE, QUARANTINE_STORE, TIME_SERIES_HEALTH, IngestMetrics, CLOCK, STORE_SET],
      useFactory: (
        edges: DeviceEdge[],
        readings: ReadingsStore,
        quarantine: QuarantineStore,
        ts: TimeSeriesHealth,
        metrics: IngestMetrics,
        clock: Clock,
        stores: StoreSet,
      ) => new HealthService(edges, readings, quarantine, ts, metrics, clock, stores),
    },
    {
      provide: NotificationDispatcher,
      inject: [OUTBOX_STORE, NOTIFICATION_CHANNELS, AlertFeed, CLOCK, SCHEDULER, IngestMetrics, LOGGER, CONFIG],
      useFactory: (
        outbox: OutboxStore,
        channels: NotificationChannel[],
        feed: AlertFeed,
        clock: Clock,
        scheduler: Scheduler,
        metrics: IngestMetrics,
        log: LoggerFactory,
        c: IngestConfig,
      ) =>
        new NotificationDispatcher(outbox, channels, feed, clock, scheduler, metrics, log.forContext('Notifications'), {
          maxAttempts: c.notifyMaxAttempts,
          baseDelayMs: c.notifyRetryBaseMs,
          maxDelayMs: c.notifyRetryMaxMs,
        }),
    },
    {
      provide: REPORT_RENDERER,
      inject: [CONFIG],
      useFactory: (c: IngestConfig) => new BulletinRenderer(c.chromiumPath),
    },
    {
      provide: ReportSchedule,
      inject: [ReportService, REPORT_STORE, NOTIFICATION_CHANNELS, CLOCK, SCHEDULER, LOGGER, IngestMetrics, CONFIG],
      useFactory: (
        reports: ReportService,
        store: ReportStore,
        channels: NotificationChannel[],
        clock: Clock,
        scheduler: Scheduler,
        log: LoggerFactory,
        metrics: IngestMetrics,
        c: IngestConfig,
      ) =>
        new ReportSchedule(
          reports,
          store,
          channels.filter(carriesReports),
          clock,
          scheduler,
          log.forContext('Reports'),
          metrics,
          {
            hour: c.reportHour,
            publicUrl: c.publicUrl ?? `http://localhost:${c.httpPort}`,
            tickMs: 60_000,
          },
        ),
    },
    Lifecycle,
  ],
  exports: [
    DEVICE_EDGES,
    NOTIFICATION_CHANNELS,
    HealthService,
    NotificationDispatcher,
    REPORT_RENDERER,
    ReportSchedule,
  ],
})
class CompositionModule {}

/** The service: feature modules composed; nothing else lives in the app. */
@Module({})
export class AppModule {
  static forRoot(kernel: KernelOptions, rootLogger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // No request middleware (forRoutes: []): its per-request AsyncLocalStorage switches on Node's
        // promise hooks for the whole process, which cost the MQTT hot path ~3 µs a reading
        // (bench:ingest, docs/benchmarks.md). Nest's own messages still go through pino.
        LoggerModule.forRoot({ pinoHttp: { logger: rootLogger, autoLogging: false }, forRoutes: [] }),
        KernelModule.forRoot(kernel),
        SqliteSpoolModule,
        StoresModule,
        CoreModule,
        InfluxModule,
        NotifyModule,
        MqttEdgeModule,
        Hj212EdgeModule,
        CompositionModule,
        ApiModule,
      ],
    };
  }
}
