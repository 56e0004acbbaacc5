import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { stringify } from 'yaml';
import { generateFleet } from './fleet';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

const program = new Command()
  .name('devices-sim')
  .description('Dustwatch device simulator: fleet files for provisioning (more modes to come).');

program
  .command('generate-fleet')
  .description('Write a deterministic fleet file (YAML) of construction sites around Changzhi, with one background station per district. The ingest service imports the same file (dustwatch-admin import-fleet).')
  .option('--sites <n>', 'number of construction sites', positiveInt, 152)
  .option('--seed <n>', 'random seed: the same seed gives the same fleet and the same demo secrets', positiveInt, 1)
  .option('--out <file>', 'output file (default: standard output)')
  .action((options: { sites: number; seed: number; out?: string }) => {
    const fleet = generateFleet(options.sites, options.seed);
    const devices = fleet.sites.reduce((n, s) => n + s.devices.length, 0);
    const header = [
      `# Dustwatch demo fleet: ${options.sites} construction sites + ${fleet.sites.length - options.sites} background stations, ${devices} devices (seed ${options.seed}).`,
      '# The secrets below are for demos and tests only. Never use them for real devices.',
      '# Format: docs/fleet-file.md',
      '',
    ].join('\n');
    const text = header + stringify(fleet, { lineWidth: 0 });
    if (options.out) {
      writeFileSync(options.out, text);
      process.stderr.write(`wrote ${options.out}: ${fleet.sites.length} sites, ${devices} devices\n`);
    } else {
      process.stdout.write(text);
    }
  });

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`devices-sim: ${error.message}\n`);
  process.exit(1);
});
