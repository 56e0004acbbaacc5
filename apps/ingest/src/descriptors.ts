import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  DescriptorPlan,
  ENV_VARIABLES,
  IngestConfig,
  clustered,
  parseOpenFileLimits,
  planDescriptors,
} from '@dustwatch/core';

/** Whether the setting behind `variable` differs from its default (someone chose it). */
export function setExplicitly(config: IngestConfig, variable: string): boolean {
  const key = ENV_VARIABLES.find(([name]) => name === variable)?.[1];
  return key !== undefined && config[key] !== new IngestConfig()[key];
}

const readLimits = (): { soft: number; hard: number } | null => {
  try {
    return parseOpenFileLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null; // not Linux: the configured caps stand
  }
};

/**
 * Raises the soft open-file limit to the hard one (Debian's default soft limit is 1,024), then
 * fits the connection caps into it. Node has no setrlimit; util-linux's `prlimit` on our own
 * pid does the same without privileges (a soft limit may rise up to the hard one).
 */
export function fitDescriptors(config: IngestConfig): {
  config: IngestConfig;
  plan: DescriptorPlan | null;
  raisedFrom?: number;
} {
  let limits = readLimits();
  if (!limits) return { config, plan: null };
  let raisedFrom: number | undefined;
  if (limits.soft < limits.hard && Number.isFinite(limits.hard)) {
    try {
      execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${limits.hard}:${limits.hard}`], { stdio: 'ignore' });
      const after = readLimits();
      if (after && after.soft > limits.soft) raisedFrom = limits.soft;
      limits = after ?? limits;
    } catch {
      // no prlimit (util-linux) here: plan with the soft limit as it is; the log says so
    }
  }
  const plan = planDescriptors(
    Number.isFinite(limits.soft) ? limits.soft : 1_048_576,
    {
      http: config.httpMaxConnections,
      mqtt: config.mqttMaxConnections,
      mqttPerAddress: config.mqttMaxConnectionsPerAddress,
      hj212: config.hj212MaxConnections,
      hj212PerAddress: config.hj212MaxConnectionsPerAddress,
    },
    { hj212: config.hj212Port !== 0, mqtt: !clustered(config) },
  );
  const fitted = Object.assign(Object.create(Object.getPrototypeOf(config)) as IngestConfig, config, {
    httpMaxConnections: plan.caps.http,
    mqttMaxConnections: plan.caps.mqtt,
    mqttMaxConnectionsPerAddress: plan.caps.mqttPerAddress,
    hj212MaxConnections: plan.caps.hj212,
    hj212MaxConnectionsPerAddress: plan.caps.hj212PerAddress,
  });
  return { config: fitted, plan, raisedFrom };
}
