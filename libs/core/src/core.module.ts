import { Global, Module } from '@nestjs/common';
import { RuleSet, metricsUsed, sampleRetentionMs } from '@dustwatch/rules';
import { contractV1Decoder } from '@dustwatch/telemetry';
import { AlertFeed, SharedAlertFeed } from './alerts/alert-feed';
import { AlertService } from './alerts/alert.service';
import { RegistryDirectory } from './alerts/registry-directory';
import { RuleRunner } from './alerts/rule-runner';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { EvidenceService } from './evidence/evidence.service';
import { IngestCore } from './ingest/ingest-core';
import { ReadingsAcceptedBus } from './ingest/readings-accepted';
import { Clock } from './kernel/clock';
import { IngestConfig, clustered } from './kernel/config';
import { LoggerFactory } from './kernel/logger';
import { IngestMetrics } from './kernel/metrics';
import { Scheduler } from './kernel/scheduler';
import {
  ALERT_EVENT_SIGNAL,
  ALERT_STORE,
  API_KEY_STORE,
  CLOCK,
  CONFIG,
  DEVICE_SECRET_PEPPER,
  EVIDENCE_LOG,
  TIMESTAMP_AUTHORITY,
  FEED_OUTBOX,
  LOGGER,
  PRESENCE_STORE,
  QUARANTINE_STORE,
  READINGS_STORE,
  REGISTRY_STORE,
  PEOPLE_STORE,
  REPORT_DATA_SOURCE,
  REPORT_STORE,
  RULE_FEED,
  RULE_SET,
  SCHEDULER,
} from './kernel/tokens';
import { ReportDataSource, ReportStore } from './ports/report-store';
import { PeopleStore } from './ports/people-store';
import { PasswordHasher, PeopleService } from './auth/people';
import { ReportService, recordRevisions } from './reports/report.service';
import { AlertStore } from './ports/alert-store';
import { ApiKeyStore } from './ports/api-key-store';
import { PresenceStore } from './ports/presence-store';
import { EvidenceLog, TimestampAuthority } from './ports/evidence-log';
import { QuarantineStore } from './ports/quarantine-store';
import { ReadingsStore } from './ports/readings-store';
import { RegistryStore } from './ports/registry-store';
import { Presence } from './presence/presence';
import { RegistryService } from './registry/registry.service';
import { SecretHasher } from './registry/secrets';
import { DeviceLogin } from './auth/device-login';
import { BrokerHooks } from './auth/broker-hooks';
import { StreamTokens } from './auth/stream-tokens';
import { CredentialEnds } from './auth/credential-ends';
import { LiveStreams } from './auth/live-streams';
import { FleetSnapshot } from './snapshot/fleet-snapshot';
import { RuleFeedForwarder } from './cluster/rule-feed-forwarder';
import { RuleOwnership } from './cluster/rule-ownership';
import { AlertEventSignal, FeedOutbox, RuleFeed } from './ports/rule-feed';

/** Several instances: each merges the others' presence records this often. */
const SHARED_PRESENCE_RELOAD_MS = 5000;

/** The shared feed outlives the rule windows by ten minutes, so a new owner's windows are whole. */
const FEED_SLACK_MS = 600_000;

/** Webhook is configured per deployment; MQTT and InfluxDB always listen. */
export const alertChannelNames = (config: IngestConfig): string[] => [
  ...(config.webhookUrl ? ['webhook'] : []),
  'mqtt',
  'influx',
];

/**
 * The use cases: ingest core, presence, registry, API keys, the alert ledger and its rule
 * runner, the fleet snapshot. Everything here is a plain class over ports; this module only
 * wires them, with the shared services injected by token.
 */
@Global()
@Module({
  providers: [
    {
      provide: EvidenceService,
      inject: [EVIDENCE_LOG, RegistryService, CLOCK, SCHEDULER, LOGGER, IngestMetrics, TIMESTAMP_AUTHORITY],
      useFactory: (
        log: EvidenceLog,
        registry: RegistryService,
        clock: Clock,
        scheduler: Scheduler,
        logger: LoggerFactory,
        metrics: IngestMetrics,
        tsa: TimestampAuthority | null,
      ) => new EvidenceService(log, registry, clock, scheduler, logger.forContext('Evidence'), metrics, tsa),
    },
    {
      provide: ReadingsAcceptedBus,
      inject: [LOGGER],
      useFactory: (log: LoggerFactory) => new ReadingsAcceptedBus(log.forContext('Ingest')),
    },
    {
      provide: IngestCore,
      inject: [READINGS_STORE, QUARANTINE_STORE, IngestMetrics, ReadingsAcceptedBus, RULE_SET, CONFIG, EVIDENCE_LOG],
      useFactory: (
        readings: ReadingsStore,
        quarantine: QuarantineStore,
        metrics: IngestMetrics,
        bus: ReadingsAcceptedBus,
        ruleSet: RuleSet,
        config: IngestConfig,
        evidence: EvidenceLog,
      ) => {
        metrics.declareRejectionCodes(contractV1Decoder.rejectionCodes, contractV1Decoder.warningCodes);
        return new IngestCore(readings, quarantine, metrics, bus, evidence, {
          journalMetrics: metricsUsed(ruleSet),
          quarantinePerDeviceHour: config.quarantinePerDeviceHour,
        });
      },
    },
    {
      provide: Presence,
      inject: [PRESENCE_STORE, CLOCK, SCHEDULER, LOGGER, ReadingsAcceptedBus, CONFIG],
      useFactory: (
        store: PresenceStore,
        clock: Clock,
        scheduler: Scheduler,
        log: LoggerFactory,
        bus: ReadingsAcceptedBus,
        config: IngestConfig,
      ) => {
        const presence = new Presence(
          store,
          clock,
          scheduler,
          log.forContext('Presence'),
          2000,
          clustered(config) ? SHARED_PRESENCE_RELOAD_MS : 0,
        );
        bus.subscribe((e) => presence.seen(e.deviceId, e.receivedAt)); // before the rules: the offline timer reads it
        return presence;
      },
    },
    {
      provide: RegistryService,
      inject: [REGISTRY_STORE, CLOCK, DEVICE_SECRET_PEPPER, Presence],
      useFactory: (store: RegistryStore, clock: Clock, pepper: Buffer, presence: Presence) =>
        new RegistryService(store, clock, new SecretHasher(pepper), presence),
    },
    {
      provide: DeviceLogin,
      inject: [RegistryService, CLOCK, IngestMetrics],
      useFactory: (registry: RegistryService, clock: Clock, metrics: IngestMetrics) =>
        new DeviceLogin(registry, clock, metrics),
    },
    { provide: CredentialEnds, useValue: new CredentialEnds() },
    {
      provide: ApiKeyAuthenticator,
      inject: [CONFIG, API_KEY_STORE, CLOCK, CredentialEnds],
      useFactory: (config: IngestConfig, store: ApiKeyStore, clock: Clock, ends: CredentialEnds) =>
        new ApiKeyAuthenticator(config.adminApiKey, store, clock, ends),
    },
    {
      provide: StreamTokens,
      inject: [CLOCK, CredentialEnds],
      useFactory: (clock: Clock, ends: CredentialEnds) => new StreamTokens(clock, ends),
    },
    { provide: LiveStreams, inject: [CredentialEnds], useFactory: (ends: CredentialEnds) => new LiveStreams(ends) },
    {
      provide: PeopleService,
      inject: [PEOPLE_STORE, CLOCK, CredentialEnds],
      useFactory: (store: PeopleStore, clock: Clock, ends: CredentialEnds) =>
        new PeopleService(store, new PasswordHasher(), clock, ends),
    },
    {
      provide: ReportService,
      inject: [
        REPORT_STORE,
        REPORT_DATA_SOURCE,
        ALERT_STORE,
        REGISTRY_STORE,
        RULE_SET,
        CLOCK,
        LOGGER,
        IngestMetrics,
        ReadingsAcceptedBus,
      ],
      useFactory: (
        store: ReportStore,
        source: ReportDataSource,
        alerts: AlertStore,
        registry: RegistryStore,
        ruleSet: RuleSet,
        clock: Clock,
        log: LoggerFactory,
        metrics: IngestMetrics,
        bus: ReadingsAcceptedBus,
      ) => {
        const logger = log.forContext('Reports');
        const reports = new ReportService(store, source, alerts, registry, ruleSet, clock, logger, metrics);
        bus.subscribe(recordRevisions(reports, store, logger));
        return reports;
      },
    },
    {
      provide: AlertFeed,
      inject: [CONFIG, ALERT_STORE, ALERT_EVENT_SIGNAL, SCHEDULER, LOGGER],
      useFactory: (
        config: IngestConfig,
        store: AlertStore,
        signal: AlertEventSignal | null,
        scheduler: Scheduler,
        log: LoggerFactory,
      ) =>
        clustered(config) && signal
          ? new SharedAlertFeed(store, signal, scheduler, log.forContext('AlertFeed'))
          : new AlertFeed(),
    },
    {
      provide: AlertService,
      inject: [ALERT_STORE, AlertFeed, CONFIG, CLOCK, IngestMetrics, RULE_SET],
      useFactory: (
        store: AlertStore,
        feed: AlertFeed,
        config: IngestConfig,
        clock: Clock,
        metrics: IngestMetrics,
        ruleSet: RuleSet,
      ) =>
        new AlertService(
          store,
          feed,
          alertChannelNames(config),
          clock,
          metrics,
          ruleSet.compliance.responseDeadlineMinutes * 60_000,
        ),
    },
    {
      provide: RuleRunner,
      inject: [
        RULE_SET,
        REGISTRY_STORE,
        Presence,
        RegistryService,
        READINGS_STORE,
        ALERT_STORE,
        AlertService,
        CONFIG,
        CLOCK,
        SCHEDULER,
        IngestMetrics,
        LOGGER,
        ReadingsAcceptedBus,
      ],
      useFactory: (
        ruleSet: RuleSet,
        registryStore: RegistryStore,
        presence: Presence,
        registry: RegistryService,
        readings: ReadingsStore,
        store: AlertStore,
        alerts: AlertService,
        config: IngestConfig,
        clock: Clock,
        scheduler: Scheduler,
        metrics: IngestMetrics,
        log: LoggerFactory,
        bus: ReadingsAcceptedBus,
      ) => {
        const directory = new RegistryDirectory(registryStore, presence);
        const logger = log.forContext('Rules');
        registry.onFleetChanged(() => {
          directory
            .refresh()
            .catch((error: Error) => logger.error('fleet directory reload failed', { error: error.message }));
        });
        const runner = new RuleRunner(ruleSet, directory, readings, store, alerts, clock, scheduler, metrics, logger, {
          tickMs: config.ruleTickMs,
          renotifyMinutes: config.alertRenotifyMinutes,
        });
        // Several instances: the rule owner feeds it from the shared feed (RuleOwnership), not the local bus.
        if (!clustered(config)) bus.subscribe((e) => runner.onAccepted(e));
        return runner;
      },
    },
    {
      provide: BrokerHooks,
      inject: [CONFIG, RegistryService, DeviceLogin, ApiKeyAuthenticator],
      useFactory: (
        config: IngestConfig,
        registry: RegistryService,
        logins: DeviceLogin,
        apiKeys: ApiKeyAuthenticator,
      ) =>
        config.mqttBrokerHookSecret
          ? new BrokerHooks(
              registry,
              logins,
              apiKeys,
              config.mqttBrokerUsername && config.mqttBrokerPassword
                ? { username: config.mqttBrokerUsername, password: config.mqttBrokerPassword }
                : null,
            )
          : null,
    },
    {
      provide: RuleFeedForwarder,
      inject: [CONFIG, FEED_OUTBOX, RULE_FEED, READINGS_STORE, SCHEDULER, IngestMetrics, LOGGER],
      useFactory: (
        config: IngestConfig,
        outbox: FeedOutbox,
        feed: RuleFeed | null,
        readings: ReadingsStore,
        scheduler: Scheduler,
        metrics: IngestMetrics,
        log: LoggerFactory,
      ) =>
        clustered(config) && feed
          ? new RuleFeedForwarder(outbox, feed, readings, scheduler, metrics, log.forContext('RuleFeed'))
          : null,
    },
    {
      provide: RuleOwnership,
      inject: [CONFIG, RuleRunner, RULE_FEED, Presence, RULE_SET, CLOCK, SCHEDULER, IngestMetrics, LOGGER],
      useFactory: (
        config: IngestConfig,
        runner: RuleRunner,
        feed: RuleFeed | null,
        presence: Presence,
        ruleSet: RuleSet,
        clock: Clock,
        scheduler: Scheduler,
        metrics: IngestMetrics,
        log: LoggerFactory,
      ) =>
        clustered(config) && feed
          ? new RuleOwnership(runner, feed, presence, clock, scheduler, metrics, log.forContext('RuleOwnership'), {
              owner: config.instanceId ?? 'dustwatch',
              leasePollMs: 1000,
              feedPollMs: 100,
              feedRetentionMs: sampleRetentionMs(ruleSet) + FEED_SLACK_MS,
            })
          : null,
    },
    {
      provide: FleetSnapshot,
      inject: [REGISTRY_STORE, Presence, ALERT_STORE, READINGS_STORE, CLOCK, SCHEDULER, LOGGER],
      useFactory: (
        registry: RegistryStore,
        presence: Presence,
        alerts: AlertStore,
        readings: ReadingsStore,
        clock: Clock,
        scheduler: Scheduler,
        log: LoggerFactory,
      ) => new FleetSnapshot(registry, presence, alerts, readings, clock, scheduler, log.forContext('FleetSnapshot')),
    },
  ],
  exports: [
    EvidenceService,
    ReadingsAcceptedBus,
    IngestCore,
    Presence,
    RegistryService,
    DeviceLogin,
    ApiKeyAuthenticator,
    StreamTokens,
    LiveStreams,
    PeopleService,
    AlertFeed,
    AlertService,
    RuleRunner,
    RuleFeedForwarder,
    RuleOwnership,
    BrokerHooks,
    FleetSnapshot,
    ReportService,
  ],
})
export class CoreModule {}
