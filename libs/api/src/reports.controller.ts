import {
  BadRequestException,
  Get,
  HttpCode,
  Inject,
  NotImplementedException,
  Param,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  DataNotSettledError,
  FormatUnavailableError,
  RendererBusyError,
  REPORT_FORMATS,
  REPORT_RENDERER,
  ReportFormat,
  ReportRenderer,
  ReportService,
  ReportView,
} from '@dustwatch/core';
import { PERIOD_KINDS, PeriodError, PeriodKind, forDistrict } from '@dustwatch/reports';
import { AuthenticatedRequest } from './http-edge';
import { KeyedController } from './keyed-controller';
import { MinRole } from './min-role';
import { ReportListEntryResponse, ReportResponse } from './responses';

function kindOf(kind: string): PeriodKind {
  if (!(PERIOD_KINDS as readonly string[]).includes(kind))
    throw new BadRequestException(`report kind must be one of ${PERIOD_KINDS.join(', ')}`);
  return kind as PeriodKind;
}

/** Domain refusals of the report service as HTTP answers. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PeriodError) throw new BadRequestException(error.message);
    if (error instanceof DataNotSettledError) throw new ServiceUnavailableException(error.message);
    if (error instanceof FormatUnavailableError) throw new NotImplementedException(error.message);
    throw error;
  }
}

/** The bureau's bulletins: JSON, CSV, XLSX, the printable page, PDF. Computed once per closed period and kept. */
@KeyedController('api', 'reports')
export class ReportsController {
  constructor(
    @Inject(ReportService) private readonly reports: ReportService,
    @Inject(REPORT_RENDERER) private readonly renderer: ReportRenderer,
  ) {}

  @Get('reports')
  @MinRole('viewer')
  @ApiOperation({ summary: 'Stored reports (every version), newest period first' })
  @ApiQuery({ name: 'kind', required: false, enum: PERIOD_KINDS })
  @ApiOkResponse({ type: [ReportListEntryResponse] })
  list(@Query('kind') kind?: string): Promise<ReportListEntryResponse[]> {
    return this.reports.list(kind === undefined ? undefined : kindOf(kind));
  }

  @Get('reports/:kind/:period')
  @MinRole('viewer')
  @ApiOperation({
    summary:
      "A closed period's report (daily 2026-11-27, weekly 2026-W48, monthly 2026-11), computed and stored on first request; ?format=csv|xlsx|html|pdf for files",
  })
  @ApiQuery({ name: 'format', required: false, enum: REPORT_FORMATS })
  @ApiQuery({ name: 'district', required: false, description: "Only this district's sites (the city figures stay)" })
  @ApiQuery({ name: 'version', required: false, description: 'An earlier version; the latest by default' })
  @ApiProduces('application/json', 'text/csv', 'text/html', 'application/pdf')
  @ApiOkResponse({ type: ReportResponse })
  async get(
    @Param('kind') kind: string,
    @Param('period') period: string,
    @Res() res: Response,
    @Query('format') format = 'json',
    @Query('district') district?: string,
    @Query('version') version?: string,
  ): Promise<void> {
    if (!(REPORT_FORMATS as readonly string[]).includes(format))
      throw new BadRequestException(`format must be one of ${REPORT_FORMATS.join(', ')}`);
    if (district !== undefined && (district.length === 0 || district.length > 64))
      throw new BadRequestException('district must be 1 to 64 characters');
    if (version !== undefined && !/^[1-9]\d{0,5}$/.test(version))
      throw new BadRequestException('version must be a positive whole number');
    const view = await answer(() => this.reports.get(kindOf(kind), period, version ? Number(version) : undefined));
    if (district !== undefined && !view.report.sites.some((s) => s.district === district))
      throw new BadRequestException(
        `no site in district "${district}" (districts: ${view.report.districts.map((d) => d.district).join(', ')})`,
      );
    if (format === 'json') {
      res.json(district === undefined ? view : { ...view, report: forDistrict(view.report, district) });
      return;
    }
    const file = await answer(() =>
      this.renderer.render(view, format as Exclude<ReportFormat, 'json'>, district),
    ).catch((error: unknown) => {
      if (error instanceof RendererBusyError) {
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
        throw new ServiceUnavailableException(error.message);
      }
      throw error;
    });
    res.setHeader('Content-Type', file.contentType);
    if (format !== 'html') res.setHeader('Content-Disposition', `attachment; filename="${file.filename}"`);
    res.send(file.body);
  }

  @Post('reports/:kind/:period/recompute')
  @MinRole('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Computes a new version of a report (the old ones are kept)' })
  @ApiOkResponse({ type: ReportResponse })
  recompute(
    @Param('kind') kind: string,
    @Param('period') period: string,
    @Req() req: AuthenticatedRequest,
  ): Promise<ReportView> {
    return answer(() => this.reports.recompute(kindOf(kind), period, req.principal!.name));
  }
}
