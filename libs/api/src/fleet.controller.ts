import { BadRequestException, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery } from '@nestjs/swagger';
import { RuleSet } from '@dustwatch/rules';
import {
  CLOCK,
  Clock,
  FleetSnapshot,
  HourValue,
  REGISTRY_STORE,
  RULE_SET,
  RegistryStore,
  SERIES_READER,
  SeriesMetric,
  SeriesReader,
} from '@dustwatch/core';
import { KeyedController } from './keyed-controller';
import { MinRole } from './min-role';

const HOUR_MS = 3_600_000;
const METRICS: readonly SeriesMetric[] = ['pm10', 'pm25', 'tsp', 'noise'];

class LevelResponse {
  @ApiProperty({ example: 'warning' }) severity!: string;
  @ApiProperty({ example: '>=' }) op!: string;
  @ApiProperty({ example: 150 }) value!: number;
}

class MetricLimitsResponse {
  @ApiProperty({ example: 'pm10-hourly' }) rule!: string;
  @ApiProperty({ type: [LevelResponse] }) raise!: LevelResponse[];
  @ApiProperty({ type: LevelResponse, description: 'The level below which it clears' }) clear!: LevelResponse;
  @ApiPropertyOptional({ example: '06:00–22:00', description: 'Local hours the rule applies (noise day/night)' })
  schedule?: string;
}

export class FleetSiteResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() district!: string;
  @ApiProperty() lat!: number;
  @ApiProperty() lon!: number;
  @ApiProperty({ enum: ['site', 'background'] }) kind!: string;
  @ApiProperty() monitors!: number;
  @ApiProperty() online!: number;
  @ApiProperty() activeWarning!: number;
  @ApiProperty() activeCritical!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'The worst monitor’s PM10 mean over the last hour, µg/m³ (null without readings)',
  })
  pm10OneHour!: number | null;
}

export class FleetResponse {
  @ApiProperty({ description: 'epoch ms' }) at!: number;
  @ApiProperty({ type: [MetricLimitsResponse], description: 'The hourly PM10 rules, to colour sites by' })
  pm10Levels!: MetricLimitsResponse[];
  @ApiProperty({ type: [FleetSiteResponse] }) sites!: FleetSiteResponse[];
}

class HourValueResponse {
  @ApiProperty({ description: 'Start of the hour, epoch ms' }) hourStart!: number;
  @ApiProperty({ nullable: true, type: Number }) value!: number | null;
  @ApiProperty({ description: 'Valid samples in the hour (an hour counts with 75 % of those expected)' }) n!: number;
}

class MonitorSeriesResponse {
  @ApiProperty() deviceId!: string;
  @ApiProperty({ type: [HourValueResponse] }) pm10!: HourValueResponse[];
  @ApiProperty({ type: [HourValueResponse] }) pm25!: HourValueResponse[];
  @ApiProperty({ type: [HourValueResponse] }) tsp!: HourValueResponse[];
  @ApiProperty({ type: [HourValueResponse], description: 'Hourly Leq, dB(A)' }) noise!: HourValueResponse[];
}

export class SiteSeriesResponse {
  @ApiProperty() siteId!: string;
  @ApiProperty({ description: 'epoch ms' }) from!: number;
  @ApiProperty({ description: 'epoch ms' }) to!: number;
  @ApiProperty({ type: [MonitorSeriesResponse] }) monitors!: MonitorSeriesResponse[];
  @ApiProperty({
    type: [HourValueResponse],
    description: "The district's background stations' hourly PM10 (their mean), for the DB13/2934 comparison",
  })
  backgroundPm10!: HourValueResponse[];
  @ApiProperty({ type: [MetricLimitsResponse], description: 'The rules on these metrics, to draw their levels' })
  limits!: MetricLimitsResponse[];
}

/** What the inspectors' fleet view and site pages show: every site now, one site's recent hours. */
@KeyedController('api', 'fleet', 'viewer')
export class FleetController {
  constructor(
    @Inject(FleetSnapshot) private readonly fleet: FleetSnapshot,
    @Inject(SERIES_READER) private readonly series: SeriesReader,
    @Inject(REGISTRY_STORE) private readonly registry: RegistryStore,
    @Inject(RULE_SET) private readonly ruleSet: RuleSet,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('fleet')
  @MinRole('viewer')
  @ApiOperation({ summary: 'Every site: coordinates, monitors online, active alerts, the last hour’s PM10' })
  @ApiOkResponse({ type: FleetResponse })
  async sites(): Promise<FleetResponse> {
    const at = this.clock.now();
    const [sites, means] = await Promise.all([this.fleet.sites(), this.series.recentMeans('pm10', at - HOUR_MS)]);
    return {
      at,
      pm10Levels: this.limits(['pm10']).filter((l) => !l.schedule),
      sites: sites.map(({ site, kind, devices, activeWarning, activeCritical }) => {
        const values = devices.map((d) => means.get(d.id)).filter((v): v is number => v !== undefined);
        return {
          id: site.id,
          name: site.name,
          district: site.district,
          lat: site.lat,
          lon: site.lon,
          kind,
          monitors: devices.length,
          online: devices.filter((d) => d.online).length,
          activeWarning,
          activeCritical,
          pm10OneHour: values.length ? Math.round(Math.max(...values) * 10) / 10 : null,
        };
      }),
    };
  }

  @Get('sites/:id/series')
  @MinRole('viewer')
  @ApiOperation({ summary: "A site's hourly PM10, PM2.5, TSP and noise per monitor, with its district's background" })
  @ApiQuery({ name: 'hours', required: false, description: '24 (default) or 168 (7 days)' })
  @ApiOkResponse({ type: SiteSeriesResponse })
  async siteSeries(@Param('id') id: string, @Query('hours') hours = '24'): Promise<SiteSeriesResponse> {
    if (hours !== '24' && hours !== '168') throw new BadRequestException('hours must be 24 or 168');
    const span = Number(hours);
    const site = await this.registry.findSite(id);
    if (!site) throw new NotFoundException(`no site with id ${id}`);
    const to = Math.floor(this.clock.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
    const from = to - span * HOUR_MS;
    const directory = await this.registry.deviceDirectory();
    const own = directory.filter((d) => d.siteId === id).map((d) => d.deviceId);
    const background = directory
      .filter((d) => d.kind === 'background' && d.district === site.district && d.siteId !== id)
      .map((d) => d.deviceId);
    const byMetric = await Promise.all(METRICS.map((m) => this.series.hourly(own, m, from, to)));
    const backgroundHours = await this.series.hourly(background, 'pm10', from, to);
    return {
      siteId: id,
      from,
      to,
      monitors: own.map((deviceId) => ({
        deviceId,
        pm10: byMetric[0].get(deviceId) ?? [],
        pm25: byMetric[1].get(deviceId) ?? [],
        tsp: byMetric[2].get(deviceId) ?? [],
        noise: byMetric[3].get(deviceId) ?? [],
      })),
      backgroundPm10: meanByHour([...backgroundHours.values()]),
      limits: this.limits(METRICS),
    };
  }

  /** The rule file's window rules on these metrics (what a chart draws as levels). */
  private limits(metrics: readonly string[]): MetricLimitsResponse[] {
    return this.ruleSet.rules.flatMap((r) =>
      r.kind === 'window' && r.enabled && r.appliesTo === 'site' && metrics.includes(r.metric)
        ? [
            {
              rule: r.id,
              raise: r.raise.map((l) => ({ severity: l.severity, op: l.op, value: l.value })),
              clear: { severity: 'clear', op: r.clear.op, value: r.clear.value },
              ...(r.schedule ? { schedule: `${r.schedule.from}–${r.schedule.to}` } : {}),
            },
          ]
        : [],
    );
  }
}

/** The mean of several monitors' hours, hour by hour (hours with no value from any are left out). */
function meanByHour(series: readonly HourValue[][]): HourValue[] {
  const byHour = new Map<number, { sum: number; count: number; n: number }>();
  for (const hours of series)
    for (const h of hours) {
      if (h.value === null) continue;
      const e = byHour.get(h.hourStart) ?? { sum: 0, count: 0, n: 0 };
      e.sum += h.value;
      e.count += 1;
      e.n += h.n;
      byHour.set(h.hourStart, e);
    }
  return [...byHour.entries()]
    .sort(([a], [b]) => a - b)
    .map(([hourStart, e]) => ({ hourStart, value: e.sum / e.count, n: e.n }));
}
