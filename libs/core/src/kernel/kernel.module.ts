import { DynamicModule, Global, Module } from '@nestjs/common';
import { RuleSet } from '@dustwatch/rules';
import { Clock } from './clock';
import { IngestConfig } from './config';
import { LoggerFactory } from './logger';
import { IngestMetrics } from './metrics';
import { Scheduler } from './scheduler';
import { CLOCK, CONFIG, LOGGER, RULE_SET, SCHEDULER } from './tokens';

export interface KernelOptions {
  readonly config: IngestConfig;
  readonly clock: Clock;
  readonly logger: LoggerFactory;
  readonly scheduler: Scheduler;
  readonly ruleSet: RuleSet;
}

/** The shared services every feature module injects by token: config, clock, logger, scheduler, rule set, metrics. */
@Global()
@Module({})
export class KernelModule {
  static forRoot(options: KernelOptions): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: options.config },
      { provide: CLOCK, useValue: options.clock },
      { provide: LOGGER, useValue: options.logger },
      { provide: SCHEDULER, useValue: options.scheduler },
      { provide: RULE_SET, useValue: options.ruleSet },
      { provide: IngestMetrics, useFactory: () => new IngestMetrics() },
    ];
    return { module: KernelModule, providers, exports: providers.map((p) => p.provide) };
  }
}
