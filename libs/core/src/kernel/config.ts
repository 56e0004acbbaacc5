import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MinLength,
  Min,
  ValidationError,
  validateSync,
} from 'class-validator';
import { ID_PATTERN } from '@dustwatch/telemetry';

/**
 * The one validated configuration of the ingest service. Nothing else reads process.env:
 * `loadConfig` maps each DUSTWATCH_* variable onto this class, validates it once, and throws a
 * ConfigError listing every problem so a bad deployment fails at start-up, not at 3 a.m.
 */
export class IngestConfig {
  @IsString() httpHost = '0.0.0.0';
  @IsInt() @Min(0) @Max(65535) httpPort = 3000;
  /** Open HTTP connections at most (people, dashboards, Grafana); lowered to fit the open-file limit. */
  @IsInt() @Min(1) @Max(1_000_000) httpMaxConnections = 2000;
  @IsString() mqttHost = '0.0.0.0';
  @IsInt() @Min(0) @Max(65535) mqttPort = 1883;
  @IsInt() @Min(1) @Max(1_000_000) mqttMaxConnections = 20_000;
  /** As for HJ 212: many monitors may share a carrier's NAT address, but not take every slot. */
  @IsInt() @Min(1) @Max(1_000_000) mqttMaxConnectionsPerAddress = 1000;
  @IsString() @MinLength(1) dataDir = './data';
  /**
   * Where the registry, people, alerts, outbox and reports live: empty for SQLite in the data
   * folder (the default), or a PostgreSQL URL (several instances, no single machine). The spool
   * stays local either way (docs/architecture.md).
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'databaseUrl must be a postgres://user:password@host:port/database URL',
  })
  databaseUrl?: string;
  /**
   * Several instances (docs/cluster.md): the external broker the devices connect to, e.g.
   * mqtt://emqx:1883. Empty for the embedded broker (the default). Needs `databaseUrl`.
   */
  @IsOptional()
  @Matches(/^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/, { message: 'mqttBrokerUrl must be mqtt(s)://host[:port]' })
  mqttBrokerUrl?: string;
  /** This instance's own account on the external broker (reads the shared subscription, publishes alerts). */
  @IsOptional() @IsString() mqttBrokerUsername?: string;
  @IsOptional() @IsString() mqttBrokerPassword?: string;
  /**
   * Who checks device secrets at the external broker: `mosquitto-dynsec` (Dustwatch keeps
   * Mosquitto's dynamic-security accounts in step with the registry; the instances' account must
   * be its admin), `emqx-http` (EMQX 5 asks Dustwatch over HTTP), or `none` (the operator does).
   */
  @IsIn(['none', 'mosquitto-dynsec', 'emqx-http']) mqttBrokerAuth: 'none' | 'mosquitto-dynsec' | 'emqx-http' = 'none';
  /**
   * EMQX 5's HTTP authentication and authorisation call POST /api/broker/emqx/authn|authz with
   * `Authorization: Bearer <this>` (docs/cluster.md); unset, those routes do not exist.
   */
  @IsOptional() @IsString() @MinLength(16) mqttBrokerHookSecret?: string;
  /** EMQX 5's REST API (e.g. http://emqx:18083) and an API key: a revoked device's live session is kicked there. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, { message: 'emqxApiUrl must be http(s)://host[:port]' })
  emqxApiUrl?: string;
  @IsOptional() @IsString() emqxApiKey?: string;
  @IsOptional() @IsString() emqxApiSecret?: string;
  /** Broker connections this instance consumes readings on (each a member of the shared subscription). */
  @IsInt() @Min(1) @Max(64) mqttBrokerConsumers = 16;
  /**
   * This instance's stable name among several: its broker sessions (`dustwatch-{id}-{n}`) outlive
   * a restart under it, so messages the broker holds for it are delivered when it is back.
   */
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'instanceId must match ' + ID_PATTERN.source })
  instanceId?: string;
  @IsString() hj212Host = '0.0.0.0';
  /** HJ 212-2017 over TCP (docs/hj212.md); 0 turns the listener off. */
  @IsInt() @Min(0) @Max(65535) hj212Port = 9212;
  /** A connection silent this long is closed (devices send every 30–60 s, or a heartbeat). */
  @IsInt() @Min(1) @Max(86_400) hj212IdleSeconds = 300;
  /** A frame begun must be complete this long after its first byte: a DTU sends one in a burst. */
  @IsInt() @Min(1) @Max(3_600) hj212FrameSeconds = 30;
  @IsInt() @Min(1) @Max(1_000_000) hj212MaxConnections = 20_000;
  /** Many monitors may share a carrier's NAT address; one address must still not take every slot. */
  @IsInt() @Min(1) @Max(1_000_000) hj212MaxConnectionsPerAddress = 1000;
  /** Answer CN 1013 and set a real-time clock off by more than 5 minutes (CN 1012). */
  @IsIn(['on', 'off']) hj212TimeService: 'on' | 'off' = 'on';

  @Matches(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, { message: 'influxUrl must be http(s)://host[:port]' }) influxUrl =
    'http://127.0.0.1:8086';
  @Matches(ID_PATTERN, { message: 'influxDatabase must match ' + ID_PATTERN.source }) influxDatabase = 'dustwatch';
  @IsOptional() @IsString() influxUsername?: string;
  @IsOptional() @IsString() influxPassword?: string;
  @IsOptional() @IsString() influxToken?: string;
  @IsInt() @Min(1) @Max(3650) rawRetentionDays = 90;
  /** 0 keeps the hourly means forever. */
  @IsInt() @Min(0) @Max(36500) longRetentionDays = 0;
  @IsInt() @Min(1) @Max(5000) writeBatchLines = 5000;
  @IsInt() @Min(0) @Max(60_000) writeMaxDelayMs = 200;

  @IsString()
  @MinLength(16, { message: 'adminApiKey must be at least 16 characters (set DUSTWATCH_ADMIN_API_KEY)' })
  adminApiKey!: string;

  /** Disk the spool may take (spool.db's used pages plus its WAL); at it readings are refused. */
  @IsInt() @Min(1) spoolQuotaMb = 1024;
  /** Refused readings kept with their raw text, per device and hour; the rest are counted only. */
  @IsInt() @Min(0) @Max(100_000) quarantinePerDeviceHour = 100;
  /** Bytes of raw text and reasons the quarantine keeps; beyond it the oldest entries go. */
  @IsInt() @Min(1) quarantineQuotaMb = 64;
  @IsInt() @Min(1) @Max(3650) quarantineRetentionDays = 30;
  @IsIn(['full', 'normal']) spoolSync: 'full' | 'normal' = 'full';

  /** YAML or JSON rule file (docs/rules.md); the domain reference's defaults when unset. */
  @IsOptional() @IsString() rulesFile?: string;
  @IsInt() @Min(100) @Max(600_000) ruleTickMs = 1000;
  /** Re-notify open alerts nobody acknowledged, every this many minutes; 0 = never. */
  @IsInt() @Min(0) @Max(10_080) alertRenotifyMinutes = 30;
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'webhookUrl must be an http(s) URL' }) webhookUrl?: string;
  /** An RFC 3161 time-stamping authority: each sealed evidence root is timestamped there (docs/evidence.md). */
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'tsaUrl must be an http(s) URL' }) tsaUrl?: string;
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'webhookSecret must be at least 16 characters' })
  webhookSecret?: string;
  @IsIn(['json', 'wecom', 'dingtalk']) webhookFormat: 'json' | 'wecom' | 'dingtalk' = 'json';
  /** How often the fleet's state (sites, devices online, active alerts) is written to InfluxDB for Grafana; 0 = never. */
  @IsInt() @Min(0) @Max(3600) snapshotSeconds = 60;
  /** Local hour (Asia/Shanghai) the scheduled reports are made: the daily one for the day before, weekly on Mondays, monthly on the 1st; -1 = no schedule. */
  @IsInt() @Min(-1) @Max(23) reportHour = 8;
  /** The browser that prints reports to PDF; /usr/bin/chromium (Debian) and the usual places when unset. */
  @IsOptional() @IsString() chromiumPath?: string;
  /** The inspectors' console, built (npm run build): served at `/`. Relative to the working directory. */
  @IsString() consoleDir = 'dist/apps/console';
  /** The service's address as people reach it, for links in report summaries; http://localhost:<port> when unset. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'publicUrl must be an http(s) URL' })
  publicUrl?: string;
  @IsInt() @Min(1) @Max(1000) notifyMaxAttempts = 20;
  @IsInt() @Min(10) notifyRetryBaseMs = 1000;
  @IsInt() @Min(10) notifyRetryMaxMs = 300_000;

  @IsIn(['debug', 'verbose', 'log', 'warn', 'error']) logLevel: 'debug' | 'verbose' | 'log' | 'warn' | 'error' = 'log';
  /** `auto`: readable lines when stdout is a terminal, JSON otherwise (a collector, a container). */
  @IsIn(['auto', 'json', 'text']) logFormat: 'auto' | 'json' | 'text' = 'auto';
}

type Kind = 'string' | 'int';
/** Environment variable → config key. The README's configuration table mirrors this list. */
export const ENV_VARIABLES: ReadonlyArray<readonly [string, keyof IngestConfig, Kind]> = [
  ['DUSTWATCH_HTTP_HOST', 'httpHost', 'string'],
  ['DUSTWATCH_HTTP_PORT', 'httpPort', 'int'],
  ['DUSTWATCH_HTTP_MAX_CONNECTIONS', 'httpMaxConnections', 'int'],
  ['DUSTWATCH_MQTT_HOST', 'mqttHost', 'string'],
  ['DUSTWATCH_MQTT_PORT', 'mqttPort', 'int'],
  ['DUSTWATCH_MQTT_MAX_CONNECTIONS', 'mqttMaxConnections', 'int'],
  ['DUSTWATCH_MQTT_MAX_CONNECTIONS_PER_ADDRESS', 'mqttMaxConnectionsPerAddress', 'int'],
  ['DUSTWATCH_DATA_DIR', 'dataDir', 'string'],
  ['DUSTWATCH_DATABASE_URL', 'databaseUrl', 'string'],
  ['DUSTWATCH_MQTT_BROKER_URL', 'mqttBrokerUrl', 'string'],
  ['DUSTWATCH_MQTT_BROKER_USERNAME', 'mqttBrokerUsername', 'string'],
  ['DUSTWATCH_MQTT_BROKER_PASSWORD', 'mqttBrokerPassword', 'string'],
  ['DUSTWATCH_MQTT_BROKER_CONSUMERS', 'mqttBrokerConsumers', 'int'],
  ['DUSTWATCH_MQTT_BROKER_AUTH', 'mqttBrokerAuth', 'string'],
  ['DUSTWATCH_MQTT_BROKER_HOOK_SECRET', 'mqttBrokerHookSecret', 'string'],
  ['DUSTWATCH_EMQX_API_URL', 'emqxApiUrl', 'string'],
  ['DUSTWATCH_EMQX_API_KEY', 'emqxApiKey', 'string'],
  ['DUSTWATCH_EMQX_API_SECRET', 'emqxApiSecret', 'string'],
  ['DUSTWATCH_INSTANCE_ID', 'instanceId', 'string'],
  ['DUSTWATCH_HJ212_HOST', 'hj212Host', 'string'],
  ['DUSTWATCH_HJ212_PORT', 'hj212Port', 'int'],
  ['DUSTWATCH_HJ212_IDLE_SECONDS', 'hj212IdleSeconds', 'int'],
  ['DUSTWATCH_HJ212_FRAME_SECONDS', 'hj212FrameSeconds', 'int'],
  ['DUSTWATCH_HJ212_MAX_CONNECTIONS', 'hj212MaxConnections', 'int'],
  ['DUSTWATCH_HJ212_MAX_CONNECTIONS_PER_ADDRESS', 'hj212MaxConnectionsPerAddress', 'int'],
  ['DUSTWATCH_HJ212_TIME_SERVICE', 'hj212TimeService', 'string'],
  ['DUSTWATCH_INFLUX_URL', 'influxUrl', 'string'],
  ['DUSTWATCH_INFLUX_DB', 'influxDatabase', 'string'],
  ['DUSTWATCH_INFLUX_USERNAME', 'influxUsername', 'string'],
  ['DUSTWATCH_INFLUX_PASSWORD', 'influxPassword', 'string'],
  ['DUSTWATCH_INFLUX_TOKEN', 'influxToken', 'string'],
  ['DUSTWATCH_RAW_RETENTION_DAYS', 'rawRetentionDays', 'int'],
  ['DUSTWATCH_LONG_RETENTION_DAYS', 'longRetentionDays', 'int'],
  ['DUSTWATCH_WRITE_BATCH_LINES', 'writeBatchLines', 'int'],
  ['DUSTWATCH_WRITE_MAX_DELAY_MS', 'writeMaxDelayMs', 'int'],
  ['DUSTWATCH_ADMIN_API_KEY', 'adminApiKey', 'string'],
  ['DUSTWATCH_SPOOL_QUOTA_MB', 'spoolQuotaMb', 'int'],
  ['DUSTWATCH_SPOOL_SYNC', 'spoolSync', 'string'],
  ['DUSTWATCH_QUARANTINE_PER_DEVICE_HOUR', 'quarantinePerDeviceHour', 'int'],
  ['DUSTWATCH_QUARANTINE_QUOTA_MB', 'quarantineQuotaMb', 'int'],
  ['DUSTWATCH_QUARANTINE_RETENTION_DAYS', 'quarantineRetentionDays', 'int'],
  ['DUSTWATCH_RULES_FILE', 'rulesFile', 'string'],
  ['DUSTWATCH_RULE_TICK_MS', 'ruleTickMs', 'int'],
  ['DUSTWATCH_ALERT_RENOTIFY_MINUTES', 'alertRenotifyMinutes', 'int'],
  ['DUSTWATCH_WEBHOOK_URL', 'webhookUrl', 'string'],
  ['DUSTWATCH_TSA_URL', 'tsaUrl', 'string'],
  ['DUSTWATCH_WEBHOOK_SECRET', 'webhookSecret', 'string'],
  ['DUSTWATCH_WEBHOOK_FORMAT', 'webhookFormat', 'string'],
  ['DUSTWATCH_SNAPSHOT_SECONDS', 'snapshotSeconds', 'int'],
  ['DUSTWATCH_REPORT_HOUR', 'reportHour', 'int'],
  ['DUSTWATCH_PUBLIC_URL', 'publicUrl', 'string'],
  ['DUSTWATCH_CONSOLE_DIR', 'consoleDir', 'string'],
  ['DUSTWATCH_CHROMIUM', 'chromiumPath', 'string'],
  ['DUSTWATCH_NOTIFY_MAX_ATTEMPTS', 'notifyMaxAttempts', 'int'],
  ['DUSTWATCH_NOTIFY_RETRY_BASE_MS', 'notifyRetryBaseMs', 'int'],
  ['DUSTWATCH_NOTIFY_RETRY_MAX_MS', 'notifyRetryMaxMs', 'int'],
  ['DUSTWATCH_LOG_LEVEL', 'logLevel', 'string'],
  ['DUSTWATCH_LOG_FORMAT', 'logFormat', 'string'],
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * @param purpose `cli` for the offline admin commands, which open the database but serve no
 *   API and so need no admin API key.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  purpose: 'server' | 'cli' = 'server',
): IngestConfig {
  const config = new IngestConfig() as unknown as Record<string, unknown>;
  if (purpose === 'cli' && !env['DUSTWATCH_ADMIN_API_KEY']) config['adminApiKey'] = 'not-used-by-the-cli';
  const problems: string[] = [];
  const variableOf = new Map<string, string>();
  for (const [variable, key, kind] of ENV_VARIABLES) {
    variableOf.set(key, variable);
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    if (kind === 'int') {
      if (!/^-?\d+$/.test(raw.trim())) problems.push(`${variable}=${JSON.stringify(raw)} is not a whole number`);
      else config[key] = Number(raw.trim());
    } else {
      config[key] = raw;
    }
  }
  const errors: ValidationError[] = validateSync(config as object);
  for (const error of errors) {
    const variable = variableOf.get(error.property) ?? error.property;
    if (problems.some((p) => p.startsWith(variable + '='))) continue;
    if (config[error.property] === undefined) {
      problems.push(`${variable} is required`);
      continue;
    }
    problems.push(`${variable}: ${Object.values(error.constraints ?? {}).join('; ')}`);
  }
  const typed = config as unknown as IngestConfig;
  if (typed.influxToken && typed.influxUsername)
    problems.push('DUSTWATCH_INFLUX_TOKEN and DUSTWATCH_INFLUX_USERNAME are exclusive: use one way to authenticate');
  if (Boolean(typed.influxUsername) !== Boolean(typed.influxPassword))
    problems.push('DUSTWATCH_INFLUX_USERNAME and DUSTWATCH_INFLUX_PASSWORD go together');
  if (typed.webhookUrl && !typed.webhookSecret)
    problems.push(
      'DUSTWATCH_WEBHOOK_URL needs DUSTWATCH_WEBHOOK_SECRET (the HMAC-SHA256 signing key, at least 16 characters)',
    );
  if (typed.mqttBrokerUrl) {
    if (!typed.databaseUrl)
      problems.push(
        'DUSTWATCH_MQTT_BROKER_URL needs DUSTWATCH_DATABASE_URL: several instances share their stores and rule feed in PostgreSQL',
      );
    if (!typed.instanceId)
      problems.push(
        'DUSTWATCH_MQTT_BROKER_URL needs DUSTWATCH_INSTANCE_ID (a stable name per instance: its broker sessions outlive a restart)',
      );
  }
  if (typed.mqttBrokerAuth === 'mosquitto-dynsec' && !typed.mqttBrokerUsername)
    problems.push(
      'DUSTWATCH_MQTT_BROKER_AUTH=mosquitto-dynsec needs DUSTWATCH_MQTT_BROKER_USERNAME and _PASSWORD (an admin of its dynamic security)',
    );
  if (typed.mqttBrokerAuth === 'emqx-http' && !typed.mqttBrokerHookSecret)
    problems.push(
      'DUSTWATCH_MQTT_BROKER_AUTH=emqx-http needs DUSTWATCH_MQTT_BROKER_HOOK_SECRET (EMQX sends it as Authorization: Bearer)',
    );
  if (typed.emqxApiUrl && !(typed.emqxApiKey && typed.emqxApiSecret))
    problems.push('DUSTWATCH_EMQX_API_URL needs DUSTWATCH_EMQX_API_KEY and DUSTWATCH_EMQX_API_SECRET');
  if (Boolean(typed.mqttBrokerUsername) !== Boolean(typed.mqttBrokerPassword))
    problems.push('DUSTWATCH_MQTT_BROKER_USERNAME and DUSTWATCH_MQTT_BROKER_PASSWORD go together');
  if (typed.notifyRetryMaxMs < typed.notifyRetryBaseMs)
    problems.push('DUSTWATCH_NOTIFY_RETRY_MAX_MS must not be below DUSTWATCH_NOTIFY_RETRY_BASE_MS');
  if (problems.length > 0) throw new ConfigError(problems);
  return typed;
}

/** Several instances behind an external broker (docs/cluster.md), rather than one with the embedded broker. */
export function clustered(config: IngestConfig): boolean {
  return Boolean(config.mqttBrokerUrl);
}

/** The service's and the CLI's one read of the process environment. */
export function loadConfigFromEnvironment(purpose: 'server' | 'cli' = 'server'): IngestConfig {
  return loadConfig(process.env, purpose);
}

/** Readings older than the raw retention minus this margin are refused, so none is spooled that InfluxDB would drop. */
const RETENTION_MARGIN_MS = 3_600_000;

/** The oldest reading age an edge accepts. */
export function maxReadingAgeMs(config: IngestConfig): number {
  return config.rawRetentionDays * 86_400_000 - RETENTION_MARGIN_MS;
}
