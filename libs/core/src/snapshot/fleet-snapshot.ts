import { pointToLine } from '@dustwatch/telemetry';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { AlertStore } from '../ports/alert-store';
import { ReadingsStore } from '../ports/readings-store';
import { DeviceKind, RegistryStore, Site } from '../ports/registry-store';
import { Presence } from '../presence/presence';

export const SITE_STATUS_MEASUREMENT = 'site_status';
export const DEVICE_STATUS_MEASUREMENT = 'device_status';

/**
 * Writes the fleet's state to InfluxDB once a period (through the spool, so it is as durable as a
 * reading): per site its coordinates, district, kind, devices online and active alerts by
 * severity (`site_status`), per device online and seconds since its last reading
 * (`device_status`). Grafana's "fleet now" map and counters read these; readings alone cannot
 * say where a site is or whether a silent monitor is connected.
 */
export class FleetSnapshot {
  private timer: TimerHandle | null = null;

  constructor(
    private readonly registry: RegistryStore,
    private readonly presence: Presence,
    private readonly alerts: AlertStore,
    private readonly spool: ReadingsStore,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly logger: ContextLogger,
  ) {}

  start(periodSeconds: number): void {
    if (periodSeconds <= 0) return;
    const run = (): void => {
      this.write(this.clock.now()).catch((error: Error) =>
        this.logger.warn('fleet snapshot not written', { error: error.message }),
      );
    };
    run();
    this.timer = this.scheduler.every(periodSeconds * 1000, run);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Every site now: where it is, its monitors and how many are online, its active alerts. */
  async sites(): Promise<SiteState[]> {
    const devices = await this.registry.listDevices();
    const active = await this.alerts.activeBySite();
    return (await this.registry.listSites()).map((site) => {
      const own = devices.filter((d) => d.siteId === site.id);
      const alerts = active.get(site.id) ?? { warning: 0, critical: 0 };
      return {
        site,
        kind: own.length > 0 && own.every((d) => d.kind === 'background') ? 'background' : 'site',
        devices: own.map((d) => ({ id: d.id, kind: d.kind, ...this.presence.get(d.id) })),
        activeWarning: alerts.warning,
        activeCritical: alerts.critical,
      };
    });
  }

  async write(now: number): Promise<number> {
    const lines: string[] = [];
    const sites = await this.sites();
    for (const { site, kind, devices, activeWarning, activeCritical } of sites)
      lines.push(
        pointToLine(
          SITE_STATUS_MEASUREMENT,
          { site: site.id, district: site.district, kind },
          {
            lat: site.lat,
            lon: site.lon,
            devices: { int: devices.length },
            online: { int: devices.filter((d) => d.online).length },
            active_warning: { int: activeWarning },
            active_critical: { int: activeCritical },
            name: site.name,
          },
          now,
        ),
      );
    for (const { site, devices } of sites)
      for (const d of devices) {
        const fields: Record<string, number | { int: number }> = { online: { int: d.online ? 1 : 0 } };
        if (d.lastSeenAt !== null) fields['last_seen_age_s'] = Math.max(0, Math.round((now - d.lastSeenAt) / 1000));
        lines.push(pointToLine(DEVICE_STATUS_MEASUREMENT, { device: d.id, site: site.id, kind: d.kind }, fields, now));
      }
    await this.spool.commit(
      lines.map((line) => ({ line, journal: null })),
      now,
    );
    return lines.length;
  }
}

export interface SiteState {
  readonly site: Site;
  readonly kind: DeviceKind;
  readonly devices: readonly { id: string; kind: DeviceKind; online: boolean; lastSeenAt: number | null }[];
  readonly activeWarning: number;
  readonly activeCritical: number;
}
