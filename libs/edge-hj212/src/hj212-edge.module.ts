import { Global, Module } from '@nestjs/common';
import { HJ212_REJECTION_CODES, WARNING_CODES } from '@dustwatch/telemetry';
import {
  CLOCK,
  CONFIG,
  Clock,
  DeviceLogin,
  IngestConfig,
  IngestCore,
  IngestMetrics,
  LOGGER,
  LoggerFactory,
  Presence,
  RegistryService,
  maxReadingAgeMs,
} from '@dustwatch/core';
import { Hj212Listener } from './hj212-listener';

/** The HJ 212 TCP edge; absent (null) when DUSTWATCH_HJ212_PORT is 0. */
@Global()
@Module({
  providers: [
    {
      provide: Hj212Listener,
      inject: [DeviceLogin, IngestCore, Presence, IngestMetrics, CLOCK, LOGGER, CONFIG, RegistryService],
      useFactory: (
        logins: DeviceLogin,
        core: IngestCore,
        presence: Presence,
        metrics: IngestMetrics,
        clock: Clock,
        log: LoggerFactory,
        c: IngestConfig,
        registry: RegistryService,
      ): Hj212Listener | null => {
        if (c.hj212Port === 0) return null;
        metrics.declareRejectionCodes(HJ212_REJECTION_CODES, WARNING_CODES);
        return new Hj212Listener(
          logins,
          core,
          presence,
          metrics,
          clock,
          log.forContext('Hj212'),
          {
            host: c.hj212Host,
            port: c.hj212Port,
            maxReadingAgeMs: maxReadingAgeMs(c),
            idleMs: c.hj212IdleSeconds * 1000,
            frameMs: c.hj212FrameSeconds * 1000,
            maxConnections: c.hj212MaxConnections,
            maxConnectionsPerAddress: c.hj212MaxConnectionsPerAddress,
            timeService: c.hj212TimeService === 'on',
          },
          registry,
        );
      },
    },
  ],
  exports: [Hj212Listener],
})
export class Hj212EdgeModule {}
