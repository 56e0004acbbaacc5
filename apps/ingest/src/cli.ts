import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadRuleFile } from './config/rules-file';
import {
  ConfigError,
  ConflictError,
  DataNotSettledError,
  InvalidInputError,
  PasswordHasher,
  PeopleService,
  REPORT_FORMATS,
  ROLES,
  Role,
  generateSecret,
  ReportFormat,
  ReportService,
  RegistryService,
  SecretHasher,
  loadConfigFromEnvironment,
  systemClock,
} from '@dustwatch/core';
import { InfluxHttpClient, InfluxReportSource } from '@dustwatch/influx';
import { BulletinRenderer } from '@dustwatch/report-formats';
import { PERIOD_KINDS, PeriodError, PeriodKind, forDistrict } from '@dustwatch/reports';
import { loadOrCreatePepper } from '@dustwatch/store-sqlite';
import { option, progressLine } from './cli-io';
import { migrateStore } from './migrate-store';
import { openStores } from './stores';

const USAGE = `Usage: dustwatch-admin <command>

Commands:
  import-fleet <fleet.yaml> [--secrets-out FILE]
      Create or update every site and device of a fleet file (YAML or JSON; see
      docs/fleet-file.md) in the registry under DUSTWATCH_DATA_DIR. Idempotent. Secrets the
      file does not give are generated and written to FILE (default: <fleet>.secrets.csv), once.
  report <daily|weekly|monthly> <period> [--format json|csv|xlsx|html|pdf] [--out FILE]
         [--district NAME] [--recompute] [--force]
      The compliance report of a closed period (2026-11-27, 2026-W48, 2026-11; docs/reports.md):
      the stored one, or computed from InfluxDB and the alert ledger and stored (--recompute
      stores a new version). Progress on stderr; the file to --out, or stdout for text formats.
      Refuses while the service's spool holds readings InfluxDB has not taken (--force: go on).
  create-user <name> --role admin|inspector|viewer [--display-name NAME] [--password-file FILE]
         [--if-none]
      A person's account for signing in (POST /api/session, the console). The password is read
      from FILE, or generated and printed once. --if-none: only when no account exists yet (the
      first admin of a new installation); exit 0 either way.
  migrate-store --from sqlite [--to URL]
      Copy an installation's SQLite database (<data dir>/dustwatch.db: registry, people, keys,
      alerts and their history, outbox, reports) into an empty PostgreSQL database (URL, default
      DUSTWATCH_DATABASE_URL), in one transaction; prints each table's row counts on both sides
      and commits only when they agree. Stop the service first; the spool stays where it is.
  help
      Show this text.

The commands use the database the service uses (DUSTWATCH_DATABASE_URL, else SQLite in
DUSTWATCH_DATA_DIR) and may run while it runs. Devices whose secret the file changes are
refused with the old secret on their next CONNECT.`;

function progress(done: number, total: number): void {
  if (process.stderr.isTTY || done === total || done % Math.max(1, Math.ceil(total / 10)) === 0)
    progressLine(`hashing device secrets ${done}/${total}`, done === total);
}

async function importFleet(args: string[]): Promise<number> {
  const file = args[0];
  if (!file) {
    process.stderr.write(`import-fleet needs a file\n\n${USAGE}\n`);
    return 2;
  }
  const outIndex = args.indexOf('--secrets-out');
  const secretsOut = outIndex >= 0 ? args[outIndex + 1] : `${file}.secrets.csv`;
  const config = loadConfigFromEnvironment('cli');
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const stores = await openStores(config);
  try {
    const registry = new RegistryService(
      stores.registry,
      systemClock,
      new SecretHasher(loadOrCreatePepper(config.dataDir)),
    );
    const started = Date.now();
    const summary = await registry.importFleet(document, progress);
    if (summary.generatedSecrets.length > 0) {
      writeFileSync(
        secretsOut,
        ['deviceId,secret', ...summary.generatedSecrets.map((s) => `${s.deviceId},${s.secret}`)].join('\n') + '\n',
        { mode: 0o600 },
      );
    }
    process.stdout.write(
      JSON.stringify({
        file,
        dataDir: config.dataDir,
        sites: summary.sites,
        devices: summary.devices,
        generatedSecrets: summary.generatedSecrets.length,
        secretsFile: summary.generatedSecrets.length > 0 ? secretsOut : null,
        seconds: (Date.now() - started) / 1000,
      }) + '\n',
    );
    return 0;
  } catch (error) {
    if (error instanceof InvalidInputError) {
      process.stderr.write(`${file}: ${error.message}\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    throw error;
  } finally {
    await stores.close();
  }
}

/** Readings the service accepted more than a minute ago that are still waiting for InfluxDB. */
function spoolBacklog(dataDir: string): number {
  const file = join(dataDir, 'spool.db');
  if (!existsSync(file)) return 0;
  const spool = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return spool
      .prepare('SELECT count(*) FROM spool WHERE received_at < ?')
      .pluck()
      .get(Date.now() - 60_000) as number;
  } finally {
    spool.close();
  }
}

async function report(args: string[]): Promise<number> {
  const [kind, period] = args;
  const format = (option(args, '--format') ?? 'json') as ReportFormat;
  const out = option(args, '--out');
  const district = option(args, '--district');
  if (!(PERIOD_KINDS as readonly string[]).includes(kind) || !period || !REPORT_FORMATS.includes(format)) {
    process.stderr.write(`report needs a kind (daily, weekly, monthly), a period and a known format\n\n${USAGE}\n`);
    return 2;
  }
  if ((format === 'xlsx' || format === 'pdf') && !out) {
    process.stderr.write(`--format ${format} needs --out FILE\n`);
    return 2;
  }
  const config = loadConfigFromEnvironment('cli');
  const backlog = spoolBacklog(config.dataDir);
  if (backlog > 0 && !args.includes('--force')) {
    process.stderr.write(
      `the service's spool holds ${backlog} readings InfluxDB has not taken yet; the report would miss them (is InfluxDB down?). --force to go on\n`,
    );
    return 3;
  }
  const stores = await openStores(config);
  try {
    const influx = new InfluxHttpClient({
      url: config.influxUrl,
      database: config.influxDatabase,
      username: config.influxUsername,
      password: config.influxPassword,
      token: config.influxToken,
    });
    const ruleSet = loadRuleFile(config.rulesFile);
    const logger = { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const reports = new ReportService(
      stores.reports,
      new InfluxReportSource(influx, systemClock, null),
      stores.alerts,
      stores.registry,
      ruleSet,
      systemClock,
      logger,
      null,
      (step, done, total) => progressLine(`${step} ${done}/${total}`, done === total),
    );
    const started = Date.now();
    const view = args.includes('--recompute')
      ? await reports.recompute(kind as PeriodKind, period, 'dustwatch-admin')
      : await reports.get(kind as PeriodKind, period, undefined, true);
    const body =
      format === 'json'
        ? Buffer.from(
            JSON.stringify(district ? { ...view, report: forDistrict(view.report, district) } : view, null, 2),
          )
        : (await new BulletinRenderer(config.chromiumPath).render(view, format, district)).body;
    if (out) writeFileSync(out, body);
    else process.stdout.write(body);
    process.stderr.write(
      `${kind} report ${period}, version ${view.meta.version} of ${view.versions}${view.revisedDataAvailable ? ' (revised data available: --recompute)' : ''}; ${view.report.sites.length} sites; ${((Date.now() - started) / 1000).toFixed(1)} s${out ? `; written to ${out}` : ''}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof PeriodError || error instanceof ConflictError || error instanceof DataNotSettledError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await stores.close();
  }
}

async function createUser(args: string[]): Promise<number> {
  const name = args[0];
  const role = option(args, '--role') as Role | undefined;
  if (!name || name.startsWith('--') || !role || !ROLES.includes(role)) {
    process.stderr.write(`create-user needs a name and --role (${ROLES.join(', ')})\n\n${USAGE}\n`);
    return 2;
  }
  const passwordFile = option(args, '--password-file');
  const config = loadConfigFromEnvironment('cli');
  const stores = await openStores(config);
  try {
    const people = new PeopleService(stores.people, new PasswordHasher(), systemClock);
    if (args.includes('--if-none') && (await people.countUsers()) > 0) return 0;
    const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : generateSecret();
    const person = await people.createUser(name, role, password, option(args, '--display-name'));
    process.stdout.write(
      JSON.stringify({ name: person.name, role: person.role, ...(passwordFile ? {} : { password }) }) + '\n',
    );
    return 0;
  } catch (error) {
    if (error instanceof InvalidInputError || error instanceof ConflictError) {
      process.stderr.write(
        `${error.message}${error instanceof InvalidInputError ? `: ${error.problems.join('; ')}` : ''}\n`,
      );
      return 1;
    }
    throw error;
  } finally {
    await stores.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'import-fleet':
      return importFleet(args);
    case 'report':
      return report(args);
    case 'create-user':
      return createUser(args);
    case 'migrate-store':
      return migrateStore(args, USAGE);
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof ConfigError) process.stderr.write(`dustwatch-admin: ${error.message}\n`);
    else process.stderr.write(`dustwatch-admin failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
