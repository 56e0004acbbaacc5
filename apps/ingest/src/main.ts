import { RuleFileError } from '@dustwatch/rules';
import { ConfigError, loadConfigFromEnvironment } from '@dustwatch/core';
import { loadRuleFile } from './config/rules-file';
import { startService } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromEnvironment();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `dustwatch-ingest: ${error.message}\nSee README.md "Configuration" for every variable and its default.\n`,
      );
      process.exit(2);
    }
    throw error;
  }
  let ruleSet;
  try {
    ruleSet = loadRuleFile(config.rulesFile);
  } catch (error) {
    if (error instanceof RuleFileError) {
      process.stderr.write(`dustwatch-ingest: ${error.message}\nSee docs/rules.md for the rule file format.\n`);
      process.exit(2);
    }
    throw error;
  }
  await startService(config, { ruleSet });
}

main().catch((error: Error) => {
  process.stderr.write(`dustwatch-ingest failed to start: ${error.message}\n`);
  process.exit(1);
});
