import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  InvalidInputError,
  RegistryService,
  SecretHasher,
  loadConfigFromEnvironment,
  systemClock,
} from '@dustwatch/core';
import {
  MAIN_MIGRATIONS,
  RegistryRepository,
  WriteQueue,
  loadOrCreatePepper,
  openDatabase,
} from '@dustwatch/store-sqlite';

const USAGE = `Usage: dustwatch-admin <command>

Commands:
  import-fleet <fleet.yaml> [--secrets-out FILE]
      Create or update every site and device of a fleet file (YAML or JSON; see
      docs/fleet-file.md) in the registry under DUSTWATCH_DATA_DIR. Idempotent. Secrets the
      file does not give are generated and written to FILE (default: <fleet>.secrets.csv), once.
  help
      Show this text.

The service may be running: the registry is SQLite in WAL mode. Devices whose secret the
file changes are refused with the old secret on their next CONNECT.`;

function progress(done: number, total: number): void {
  if (process.stderr.isTTY) {
    process.stderr.write(`\rhashing device secrets ${done}/${total}${done === total ? '\n' : ''}`);
  } else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) {
    process.stderr.write(`hashing device secrets ${done}/${total}\n`);
  }
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
  const db = openDatabase(join(config.dataDir, 'dustwatch.db'), MAIN_MIGRATIONS);
  try {
    const registry = new RegistryService(
      new RegistryRepository({ db, writes: new WriteQueue() }),
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
    db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'import-fleet':
      return importFleet(args);
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
