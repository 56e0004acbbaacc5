import { Global, Module } from '@nestjs/common';
import {
  CLOCK,
  CONFIG,
  Clock,
  EVIDENCE_READER,
  IngestConfig,
  IngestMetrics,
  LOGGER,
  LoggerFactory,
  READINGS_STORE,
  ReadingsStore,
  SCHEDULER,
  Scheduler,
  REPORT_DATA_SOURCE,
  SERIES_READER,
  TIME_SERIES_HEALTH,
} from '@dustwatch/core';
import { InfluxSeriesReader } from './series-reader';
import { InfluxReportSource } from './report-source';
import { InfluxAlertChannel } from './influx-alert.channel';
import { InfluxHttpClient } from './influx-http.client';
import { InfluxWriter } from './influx-writer';
import { InfluxEvidenceReader } from './evidence';

/** InfluxDB over its v1 HTTP API: the spool's writer, alert evidence, the alert_events channel, health, the reports' hourly rows. */
@Global()
@Module({
  providers: [
    {
      provide: InfluxHttpClient,
      inject: [CONFIG],
      useFactory: (c: IngestConfig) =>
        new InfluxHttpClient({
          url: c.influxUrl,
          database: c.influxDatabase,
          username: c.influxUsername,
          password: c.influxPassword,
          token: c.influxToken,
        }),
    },
    {
      provide: InfluxWriter,
      inject: [READINGS_STORE, InfluxHttpClient, IngestMetrics, CLOCK, SCHEDULER, LOGGER, CONFIG],
      useFactory: (
        spool: ReadingsStore,
        influx: InfluxHttpClient,
        metrics: IngestMetrics,
        clock: Clock,
        scheduler: Scheduler,
        log: LoggerFactory,
        c: IngestConfig,
      ) =>
        new InfluxWriter(spool, influx, metrics, clock, scheduler, log.forContext('InfluxWriter'), {
          batchLines: c.writeBatchLines,
          maxDelayMs: c.writeMaxDelayMs,
          schema: { rawRetentionDays: c.rawRetentionDays, longRetentionDays: c.longRetentionDays },
        }),
    },
    { provide: TIME_SERIES_HEALTH, useExisting: InfluxWriter },
    {
      provide: EVIDENCE_READER,
      inject: [InfluxHttpClient],
      useFactory: (influx: InfluxHttpClient) => new InfluxEvidenceReader(influx),
    },
    {
      provide: SERIES_READER,
      inject: [InfluxHttpClient],
      useFactory: (influx: InfluxHttpClient) => new InfluxSeriesReader(influx),
    },
    {
      provide: REPORT_DATA_SOURCE,
      inject: [InfluxHttpClient, CLOCK, READINGS_STORE, InfluxWriter, SCHEDULER],
      useFactory: (influx: InfluxHttpClient, clock: Clock, spool: ReadingsStore, writer: InfluxWriter, s: Scheduler) =>
        new InfluxReportSource(influx, clock, { spool, writer, sleep: (ms) => s.sleep(ms) }),
    },
    {
      provide: InfluxAlertChannel,
      inject: [InfluxHttpClient],
      useFactory: (influx: InfluxHttpClient) => new InfluxAlertChannel(influx),
    },
  ],
  exports: [
    InfluxHttpClient,
    InfluxWriter,
    TIME_SERIES_HEALTH,
    EVIDENCE_READER,
    InfluxAlertChannel,
    REPORT_DATA_SOURCE,
    SERIES_READER,
  ],
})
export class InfluxModule {}
