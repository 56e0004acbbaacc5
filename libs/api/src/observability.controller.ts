import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiServiceUnavailableResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService, IngestMetrics } from '@dustwatch/core';
import { KeyedController } from './keyed-controller';
import { MinRole } from './min-role';
import { HealthResponse, HealthStatusResponse } from './responses';

/**
 * Public probes. They say only whether the service is up and ready: the details (InfluxDB's
 * error text, spool depth) are for holders of a key, at GET /api/health.
 */
@ApiTags('operations')
@Controller()
export class ObservabilityController {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(IngestMetrics) private readonly metrics: IngestMetrics,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Readiness: 200 ok, 503 degraded (details at GET /api/health)' })
  @ApiOkResponse({ type: HealthStatusResponse })
  @ApiServiceUnavailableResponse({ type: HealthStatusResponse, description: 'Degraded' })
  async readiness(@Res() res: Response): Promise<void> {
    const { status } = await this.health.report();
    res.status(status === 'ok' ? 200 : 503).json({ status });
  }

  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP' })
  @ApiOkResponse({ type: HealthStatusResponse })
  live(): HealthStatusResponse {
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ type: String, description: 'Prometheus text exposition format 0.0.4' })
  async getMetrics(): Promise<string> {
    await this.health.refreshGauges();
    return this.metrics.registry.metrics();
  }
}

@KeyedController('api', 'operations', 'viewer')
export class HealthDetailsController {
  constructor(@Inject(HealthService) private readonly health: HealthService) {}

  @Get('health')
  @MinRole('viewer')
  @ApiOperation({ summary: 'Broker, spool, quarantine and InfluxDB health; 503 when degraded' })
  @ApiOkResponse({ type: HealthResponse })
  @ApiServiceUnavailableResponse({
    type: HealthResponse,
    description: 'Degraded: the same report, saying what is wrong',
  })
  async details(@Res() res: Response): Promise<void> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  }
}
