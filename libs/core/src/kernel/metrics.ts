import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the ingest service, on a registry of its own (served at /metrics). */
export class IngestMetrics {
  readonly registry = new Registry();

  readonly readingsAccepted = new Counter({
    name: 'dustwatch_readings_accepted_total',
    help: 'Readings validated and durably spooled',
    registers: [this.registry],
  });
  readonly readingsDuplicate = new Counter({
    name: 'dustwatch_readings_duplicate_total',
    help: 'Accepted readings that were redeliveries of a journalled reading (same device and time): acknowledged, not stored again',
    registers: [this.registry],
  });
  readonly readingsRejected = new Counter({
    name: 'dustwatch_readings_rejected_total',
    help: 'Readings (or whole payloads) refused and quarantined, by first reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly publishesRefused = new Counter({
    name: 'dustwatch_mqtt_publishes_refused_total',
    help: 'PUBLISH packets refused (client disconnected, no PUBACK), by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly connectsRefused = new Counter({
    name: 'dustwatch_mqtt_connects_refused_total',
    help: 'CONNECTs refused, by CONNACK return code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly sessionTakeovers = new Counter({
    name: 'dustwatch_mqtt_session_takeovers_total',
    help: 'Authenticated CONNECTs for a device id that was still connected (the older connection is closed): two clients share one id',
    registers: [this.registry],
  });
  readonly deviceLoginsRefused = new Counter({
    name: 'dustwatch_device_logins_refused_total',
    help: 'Device logins refused, by edge and reason (bad_credentials, disabled, throttled: refused unchecked during a back-off)',
    labelNames: ['edge', 'reason'],
    registers: [this.registry],
  });
  readonly logLinesSuppressed = new Counter({
    name: 'dustwatch_log_lines_suppressed_total',
    help: 'Repeated warnings held back by the per-key log rate limit, by logger',
    labelNames: ['context'],
    registers: [this.registry],
  });
  readonly readingsWarned = new Counter({
    name: 'dustwatch_readings_warnings_total',
    help: 'Accepted readings with something the device should fix (e.g. a flag for a metric it did not send), by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly quarantineNotKept = new Counter({
    name: 'dustwatch_quarantine_not_kept_total',
    help: "Refused readings counted but whose raw text was not kept: over the device's hourly quarantine cap",
    registers: [this.registry],
  });
  readonly quarantineBytes = new Gauge({
    name: 'dustwatch_quarantine_bytes',
    help: 'Bytes of refused payloads (raw text and reasons) in the quarantine',
    registers: [this.registry],
  });
  readonly quarantineQuotaBytes = new Gauge({
    name: 'dustwatch_quarantine_quota_bytes',
    help: 'Quarantine quota: beyond it the oldest entries are deleted',
    registers: [this.registry],
  });
  readonly hj212Connections = new Counter({
    name: 'dustwatch_hj212_connections_total',
    help: 'HJ 212 TCP connections, by outcome (accepted, refused_per_address, refused_full, closed_idle, closed_incomplete_frame)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly mqttConnections = new Counter({
    name: 'dustwatch_mqtt_connections_total',
    help: 'MQTT TCP connections, by outcome (accepted, refused_per_address, refused_full)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly hj212GarbageBytes = new Counter({
    name: 'dustwatch_hj212_garbage_bytes_total',
    help: 'Bytes between HJ 212 frames that were no frame (skipped while resynchronising on ##)',
    registers: [this.registry],
  });
  readonly hj212Commands = new Counter({
    name: 'dustwatch_hj212_commands_total',
    help: 'Authenticated HJ 212 frames, by CN (other: commands Dustwatch does not handle)',
    labelNames: ['cn'],
    registers: [this.registry],
  });
  readonly hj212SkippedCodes = new Counter({
    name: 'dustwatch_hj212_skipped_codes_total',
    help: 'HJ 212 data codes skipped because Dustwatch does not map them (gases, vendor codes), by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly subscribesRefused = new Counter({
    name: 'dustwatch_mqtt_subscribes_refused_total',
    help: 'Subscriptions refused with SUBACK 0x80',
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'dustwatch_http_errors_total',
    help: 'HTTP requests answered with an error, by status and reason',
    labelNames: ['status', 'reason'],
    registers: [this.registry],
  });
  readonly connectedDevices = new Gauge({
    name: 'dustwatch_connected_devices',
    help: 'Devices connected to the embedded broker',
    registers: [this.registry],
  });
  readonly spoolDepth = new Gauge({
    name: 'dustwatch_spool_depth',
    help: 'Readings spooled and not yet acknowledged by InfluxDB',
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({
    name: 'dustwatch_spool_bytes',
    help: 'Bytes the spool takes on disk: used pages of spool.db plus its WAL file',
    registers: [this.registry],
  });
  readonly spoolQuotaBytes = new Gauge({
    name: 'dustwatch_spool_quota_bytes',
    help: 'Spool quota: at it the service stops acknowledging',
    registers: [this.registry],
  });
  readonly spoolOverQuota = new Gauge({
    name: 'dustwatch_spool_over_quota',
    help: '1 while the spool is at its quota and readings are refused',
    registers: [this.registry],
  });
  readonly spoolOldestAge = new Gauge({
    name: 'dustwatch_spool_oldest_age_seconds',
    help: 'Age of the oldest spooled reading (0 when empty)',
    registers: [this.registry],
  });
  readonly spoolDead = new Gauge({
    name: 'dustwatch_spool_dead_lines',
    help: 'Lines InfluxDB refused as malformed, kept in spool_dead',
    registers: [this.registry],
  });
  readonly influxWriteSeconds = new Histogram({
    name: 'dustwatch_influx_write_duration_seconds',
    help: 'InfluxDB /write latency of successful batches',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reportSeconds = new Histogram({
    name: 'dustwatch_report_compute_duration_seconds',
    help: 'Compliance report computations (settle, read the hourly roll-ups, figures, store), by kind',
    labelNames: ['kind'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly reportSummariesSent = new Counter({
    name: 'dustwatch_report_summaries_sent_total',
    help: 'Scheduled report summaries every report channel took, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly influxBatchLines = new Histogram({
    name: 'dustwatch_influx_batch_lines',
    help: 'Lines per InfluxDB write batch',
    buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly influxWriteFailures = new Counter({
    name: 'dustwatch_influx_write_failures_total',
    help: 'Failed InfluxDB writes, by kind (retryable/rejected)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly influxPointsWritten = new Counter({
    name: 'dustwatch_influx_points_written_total',
    help: 'Points acknowledged by InfluxDB',
    registers: [this.registry],
  });

  readonly alertsOpened = new Counter({
    name: 'dustwatch_alerts_opened_total',
    help: 'Alerts opened, by rule and first severity',
    labelNames: ['rule', 'severity'],
    registers: [this.registry],
  });
  readonly alertEvents = new Counter({
    name: 'dustwatch_alert_events_total',
    help: 'Alert history events, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly alertsActive = new Gauge({
    name: 'dustwatch_alerts_active',
    help: 'Alerts whose condition holds (open or acknowledged), by rule and severity',
    labelNames: ['rule', 'severity'],
    registers: [this.registry],
  });
  readonly ruleReadingsSkipped = new Counter({
    name: 'dustwatch_rule_readings_skipped_total',
    help: 'Accepted readings the rules did not evaluate, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly ruleFailures = new Counter({
    name: 'dustwatch_rule_failures_total',
    help: 'Rule evaluations that failed with an error (logged)',
    registers: [this.registry],
  });
  readonly ruleOwner = new Gauge({
    name: 'dustwatch_rule_owner',
    help: 'Several instances: 1 while this instance holds the rule owner lease and judges every device, else 0',
    registers: [this.registry],
  });
  readonly ruleOwnerChanges = new Counter({
    name: 'dustwatch_rule_owner_changes_total',
    help: 'Several instances: rule owner leases this instance took or lost',
    labelNames: ['change'],
    registers: [this.registry],
  });
  readonly evidenceTimestampFailures = new Counter({
    name: 'dustwatch_evidence_timestamp_failures_total',
    help: 'Evidence roots the RFC 3161 time-stamping authority did not timestamp (retried each minute)',
    registers: [this.registry],
  });
  readonly evidenceChained = new Counter({
    name: 'dustwatch_evidence_payloads_chained_total',
    help: 'Accepted payloads and HJ 212 frames appended to their device evidence chain',
    registers: [this.registry],
  });
  readonly ruleFeedForwarded = new Counter({
    name: 'dustwatch_rule_feed_forwarded_total',
    help: 'Several instances: accepted readings handed from this instance to the shared rule feed',
    registers: [this.registry],
  });
  readonly ruleFeedFailures = new Counter({
    name: 'dustwatch_rule_feed_failures_total',
    help: 'Several instances: failed rule-feed operations (kept and retried), by operation',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  readonly brokerAccountFailures = new Counter({
    name: 'dustwatch_broker_account_failures_total',
    help: 'Several instances behind Mosquitto: device account changes the broker did not take (reconciled later)',
    registers: [this.registry],
  });
  readonly brokerAccountsMissing = new Gauge({
    name: 'dustwatch_broker_accounts_missing',
    help: 'Several instances behind Mosquitto: registry devices without an account at the broker (they cannot connect until their secret is rotated)',
    registers: [this.registry],
  });
  readonly notificationsDelivered = new Counter({
    name: 'dustwatch_notifications_delivered_total',
    help: 'Alert notifications delivered, by channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly notificationFailures = new Counter({
    name: 'dustwatch_notification_failures_total',
    help: 'Failed notification attempts, by channel and outcome (retry/dead)',
    labelNames: ['channel', 'outcome'],
    registers: [this.registry],
  });
  readonly outbox = new Gauge({
    name: 'dustwatch_notifications_outbox',
    help: 'Outbox rows by channel and state (pending/delivered/dead)',
    labelNames: ['channel', 'state'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dustwatch_process_' });
  }

  /** Publishes a decoder's every reason at 0, so dashboards and alerts see the series before the first refusal. */
  declareRejectionCodes(codes: readonly string[], warningCodes: readonly string[] = []): void {
    for (const reason of codes) this.readingsRejected.inc({ reason }, 0);
    for (const reason of warningCodes) this.readingsWarned.inc({ reason }, 0);
  }
}
