import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiServiceUnavailableResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService, IngestMetrics } from '@dustwatch/core';
import { HealthResponse } from './responses';

@ApiTags('operations')
@Controller()
export class ObservabilityController {
  constructor(
    @Inject(HealthService) private readonly health: HealthService,
    @Inject(IngestMetrics) private readonly metrics: IngestMetrics,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Broker, spool and InfluxDB health; 503 when degraded' })
  @ApiOkResponse({ type: HealthResponse })
  @ApiServiceUnavailableResponse({
    type: HealthResponse,
    description: 'Degraded: the same report, saying what is wrong',
  })
  async getHealth(@Res() res: Response): Promise<void> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
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
