import { ConfigError, clustered, loadConfig } from './config';

const KEY = 'k'.repeat(16);

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ DUSTWATCH_ADMIN_API_KEY: KEY });
    expect({ ...config }).toEqual({
      httpHost: '0.0.0.0',
      httpPort: 3000,
      mqttHost: '0.0.0.0',
      mqttPort: 1883,
      dataDir: './data',
      influxUrl: 'http://127.0.0.1:8086',
      influxDatabase: 'dustwatch',
      rawRetentionDays: 90,
      longRetentionDays: 0,
      writeBatchLines: 5000,
      writeMaxDelayMs: 200,
      adminApiKey: KEY,
      spoolQuotaMb: 1024,
      quarantinePerDeviceHour: 100,
      hj212Host: '0.0.0.0',
      hj212Port: 9212,
      hj212IdleSeconds: 300,
      hj212FrameSeconds: 30,
      httpMaxConnections: 2000,
      mqttMaxConnections: 20000,
      mqttMaxConnectionsPerAddress: 1000,
      mqttBrokerConsumers: 16,
      mqttBrokerAuth: 'none',
      hj212MaxConnections: 20_000,
      hj212MaxConnectionsPerAddress: 1000,
      hj212TimeService: 'on',
      quarantineQuotaMb: 64,
      quarantineRetentionDays: 30,
      spoolSync: 'full',
      logLevel: 'log',
      logFormat: 'auto',
      ruleTickMs: 1000,
      alertRenotifyMinutes: 30,
      snapshotSeconds: 60,
      reportHour: 8,
      consoleDir: 'dist/apps/console',
      webhookFormat: 'json',
      notifyMaxAttempts: 20,
      notifyRetryBaseMs: 1000,
      notifyRetryMaxMs: 300_000,
    });
  });

  it('takes a PostgreSQL URL for the shared stores, and names any other kind of URL', () => {
    const key = { DUSTWATCH_ADMIN_API_KEY: 'k'.repeat(16) };
    expect(loadConfig(key).databaseUrl).toBeUndefined(); // SQLite, the default
    expect(loadConfig({ ...key, DUSTWATCH_DATABASE_URL: 'postgres://dw:pw@db:5432/dustwatch' }).databaseUrl).toBe(
      'postgres://dw:pw@db:5432/dustwatch',
    );
    expect(() => loadConfig({ ...key, DUSTWATCH_DATABASE_URL: 'mysql://db/dustwatch' })).toThrow(
      'DUSTWATCH_DATABASE_URL: databaseUrl must be a postgres://user:password@host:port/database URL',
    );
  });

  it('refuses a short admin key', () => {
    expect(() => loadConfig({ DUSTWATCH_ADMIN_API_KEY: 'short' })).toThrow(
      'DUSTWATCH_ADMIN_API_KEY: adminApiKey must be at least 16 characters (set DUSTWATCH_ADMIN_API_KEY)',
    );
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({
        DUSTWATCH_MQTT_PORT: 'abc',
        DUSTWATCH_HTTP_PORT: '70000',
        DUSTWATCH_INFLUX_DB: 'bad db',
        DUSTWATCH_SPOOL_SYNC: 'off',
        DUSTWATCH_INFLUX_USERNAME: 'u',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'DUSTWATCH_MQTT_PORT="abc" is not a whole number',
      'DUSTWATCH_HTTP_PORT: httpPort must not be greater than 65535',
      'DUSTWATCH_INFLUX_DB: influxDatabase must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
      'DUSTWATCH_ADMIN_API_KEY is required',
      'DUSTWATCH_SPOOL_SYNC: spoolSync must be one of the following values: full, normal',
      'DUSTWATCH_INFLUX_USERNAME and DUSTWATCH_INFLUX_PASSWORD go together',
    ]);
  });

  it('needs a signing secret with a webhook, and a sane retry range', () => {
    expect(() =>
      loadConfig({
        DUSTWATCH_ADMIN_API_KEY: KEY,
        DUSTWATCH_WEBHOOK_URL: 'http://inspectors.example/hook',
        DUSTWATCH_WEBHOOK_FORMAT: 'slack',
        DUSTWATCH_NOTIFY_RETRY_BASE_MS: '5000',
        DUSTWATCH_NOTIFY_RETRY_MAX_MS: '1000',
      }),
    ).toThrow(
      [
        'Invalid configuration (3 problems):',
        '  - DUSTWATCH_WEBHOOK_FORMAT: webhookFormat must be one of the following values: json, wecom, dingtalk',
        '  - DUSTWATCH_WEBHOOK_URL needs DUSTWATCH_WEBHOOK_SECRET (the HMAC-SHA256 signing key, at least 16 characters)',
        '  - DUSTWATCH_NOTIFY_RETRY_MAX_MS must not be below DUSTWATCH_NOTIFY_RETRY_BASE_MS',
      ].join('\n'),
    );
  });

  it('several instances: an external broker needs PostgreSQL and a stable instance name, listed together', () => {
    const key = { DUSTWATCH_ADMIN_API_KEY: 'k'.repeat(16) };
    expect(() => loadConfig({ ...key, DUSTWATCH_MQTT_BROKER_URL: 'mqtt://emqx:1883' })).toThrow(
      [
        'Invalid configuration (2 problems):',
        '  - DUSTWATCH_MQTT_BROKER_URL needs DUSTWATCH_DATABASE_URL: several instances share their stores and rule feed in PostgreSQL',
        '  - DUSTWATCH_MQTT_BROKER_URL needs DUSTWATCH_INSTANCE_ID (a stable name per instance: its broker sessions outlive a restart)',
      ].join('\n'),
    );
    expect(() => loadConfig({ ...key, DUSTWATCH_MQTT_BROKER_URL: 'http://emqx' })).toThrow(
      'DUSTWATCH_MQTT_BROKER_URL: mqttBrokerUrl must be mqtt(s)://host[:port]',
    );
    const config = loadConfig({
      ...key,
      DUSTWATCH_MQTT_BROKER_URL: 'mqtt://emqx:1883',
      DUSTWATCH_DATABASE_URL: 'postgres://u:p@db/dustwatch',
      DUSTWATCH_INSTANCE_ID: 'ingest-1',
    });
    expect([clustered(config), config.instanceId, config.mqttBrokerConsumers]).toEqual([true, 'ingest-1', 16]);
  });
});
