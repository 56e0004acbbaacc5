import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  AlertFeed,
  CONFIG,
  ContextLogger,
  DEVICE_EDGES,
  DeviceEdge,
  EvidenceService,
  FleetSnapshot,
  IngestConfig,
  LOGGER,
  LoggerFactory,
  NotificationDispatcher,
  Presence,
  READINGS_STORE,
  ReadingsStore,
  ReportSchedule,
  RuleFeedForwarder,
  RuleOwnership,
  RuleRunner,
} from '@dustwatch/core';
import { InfluxWriter } from '@dustwatch/influx';

/**
 * The one place that knows the durability order. Each component owns its timers and its stop;
 * this coordinator only sequences them: presence, writer, rules (restored before any reading
 * arrives) and dispatcher start first, the device edges last; on shutdown the edges stop first
 * (nothing more is acknowledged), then the rest, the spool drained and written last. The
 * databases close after all of it (StoresModule and SqliteSpoolModule, onApplicationShutdown).
 */
@Injectable()
export class Lifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: ContextLogger;

  constructor(
    @Inject(DEVICE_EDGES) private readonly edges: readonly DeviceEdge[],
    @Inject(Presence) private readonly presence: Presence,
    @Inject(InfluxWriter) private readonly writer: InfluxWriter,
    @Inject(RuleRunner) private readonly rules: RuleRunner,
    /** Several instances (docs/cluster.md): both set, and the rules run only while this instance owns them. */
    @Inject(RuleOwnership) private readonly ruleOwnership: RuleOwnership | null,
    @Inject(RuleFeedForwarder) private readonly feedForwarder: RuleFeedForwarder | null,
    @Inject(NotificationDispatcher) private readonly dispatcher: NotificationDispatcher,
    @Inject(FleetSnapshot) private readonly snapshot: FleetSnapshot,
    @Inject(AlertFeed) private readonly alertFeed: AlertFeed,
    @Inject(ReportSchedule) private readonly reportSchedule: ReportSchedule,
    @Inject(EvidenceService) private readonly evidence: EvidenceService,
    @Inject(READINGS_STORE) private readonly readings: ReadingsStore,
    @Inject(CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) logger: LoggerFactory,
  ) {
    this.logger = logger.forContext('Lifecycle');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.presence.start();
    await this.alertFeed.start();
    this.writer.start();
    if (this.ruleOwnership && this.feedForwarder) {
      this.feedForwarder.start();
      await this.ruleOwnership.start();
    } else await this.rules.start();
    this.dispatcher.start();
    for (const edge of this.edges) await edge.start();
    this.snapshot.start(this.config.snapshotSeconds);
    if (this.config.reportHour >= 0) this.reportSchedule.start();
    await this.evidence.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.snapshot.stop();
    this.evidence.stop();
    await this.reportSchedule.stop();
    for (const edge of [...this.edges].reverse()) await edge.stop();
    if (this.ruleOwnership && this.feedForwarder) {
      await this.readings.drain();
      await this.feedForwarder.stop();
      await this.ruleOwnership.stop();
    } else await this.rules.stop();
    await this.dispatcher.stop();
    await this.alertFeed.stop();
    await this.readings.drain();
    await this.writer.stop();
    await this.presence.stop();
    this.logger.log('dustwatch ingest stopped', { spoolDepth: this.readings.depth });
  }
}
