import { pointToLine } from '@dustwatch/telemetry';
import { Clock } from '../kernel/clock';
import { ContextLogger } from '../kernel/logger';
import { Scheduler, TimerHandle } from '../kernel/scheduler';
import { AlertStore } from '../ports/alert-store';
import { ReadingsStore } from '../ports/readings-store';
import { RegistryStore } from '../ports/registry-store';
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

  async write(now: number): Promise<number> {
    const devices = await this.registry.listDevices();
    const active = await this.alerts.activeBySite();
    const lines: string[] = [];
    for (const site of await this.registry.listSites()) {
      const own = devices.filter((d) => d.siteId === site.id);
      const kind = own.length > 0 && own.every((d) => d.kind === 'background') ? 'background' : 'site';
      const alerts = active.get(site.id) ?? { warning: 0, critical: 0 };
      lines.push(
        pointToLine(
          SITE_STATUS_MEASUREMENT,
          { site: site.id, district: site.district, kind },
          {
            lat: site.lat,
            lon: site.lon,
            devices: { int: own.length },
            online: { int: own.filter((d) => this.presence.get(d.id).online).length },
            active_warning: { int: alerts.warning },
            active_critical: { int: alerts.critical },
            name: site.name,
          },
          now,
        ),
      );
    }
    for (const d of devices) {
      const p = this.presence.get(d.id);
      const fields: Record<string, number | { int: number }> = { online: { int: p.online ? 1 : 0 } };
      if (p.lastSeenAt !== null) fields['last_seen_age_s'] = Math.max(0, Math.round((now - p.lastSeenAt) / 1000));
      lines.push(pointToLine(DEVICE_STATUS_MEASUREMENT, { device: d.id, site: d.siteId, kind: d.kind }, fields, now));
    }
    await this.spool.commit(
      lines.map((line) => ({ line, journal: null })),
      now,
    );
    return lines.length;
  }
}
