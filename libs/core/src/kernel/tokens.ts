/**
 * Injection tokens. Shared services (config, clock, logger, scheduler) and every port are
 * injected by token, so a test can override any of them and reach every class that uses it.
 */
export const CONFIG = Symbol('IngestConfig');
export const CLOCK = Symbol('Clock');
export const LOGGER = Symbol('LoggerFactory');
export const SCHEDULER = Symbol('Scheduler');
export const RULE_SET = Symbol('RuleSet');

// Ports (libs/core/src/ports): one implementation each today.
export const READINGS_STORE = Symbol('ReadingsStore');
export const QUARANTINE_STORE = Symbol('QuarantineStore');
export const PRESENCE_STORE = Symbol('PresenceStore');
export const REGISTRY_STORE = Symbol('RegistryStore');
export const ALERT_STORE = Symbol('AlertStore');
export const OUTBOX_STORE = Symbol('OutboxStore');
export const API_KEY_STORE = Symbol('ApiKeyStore');
export const REPORT_STORE = Symbol('ReportStore');
export const PEOPLE_STORE = Symbol('PeopleStore');
/** Several instances: the shared rule feed (PostgreSQL), null on one instance; and this instance's hand-off to it (spool.db). */
export const RULE_FEED = Symbol('RuleFeed');
export const FEED_OUTBOX = Symbol('FeedOutbox');
export const EVIDENCE_LOG = Symbol('EvidenceLog');
export const TIMESTAMP_AUTHORITY = Symbol('TimestampAuthority');
export const ALERT_EVENT_SIGNAL = Symbol('AlertEventSignal');
/** The StoreSet behind the store tokens above (its engine and ping, for health). */
export const STORE_SET = Symbol('StoreSet');
export const REPORT_DATA_SOURCE = Symbol('ReportDataSource');
export const REPORT_RENDERER = Symbol('ReportRenderer');
/** The device-secret HMAC key (a Buffer), kept beside the database. */
export const DEVICE_SECRET_PEPPER = Symbol('DeviceSecretPepper');
export const DEVICE_EDGES = Symbol('DeviceEdges');
export const NOTIFICATION_CHANNELS = Symbol('NotificationChannels');
export const EVIDENCE_READER = Symbol('EvidenceReader');
export const SERIES_READER = Symbol('SeriesReader');
export const TIME_SERIES_HEALTH = Symbol('TimeSeriesHealth');
