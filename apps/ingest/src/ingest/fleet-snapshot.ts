import { pointToLine } from '@dustwatch/telemetry';
import { AlertRepository } from '../alerts/alert.repository';
import { RegistryRepository } from '../registry/registry.repository';
import { DeviceStatusRepository } from './device-status.repository';
import { Spool } from './spool';

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
  constructor(
    private readonly registry: RegistryRepository,
    private readonly status: DeviceStatusRepository,
    private readonly alerts: AlertRepository,
    private readonly spool: Spool,
  ) {}

  async write(now: number): Promise<number> {
    this.status.flush();
    const devices = this.registry.listDevices();
    const active = this.alerts.activeBySite();
    const lines: string[] = [];
    for (const site of this.registry.listSites()) {
      const own = devices.filter((d) => d.siteId === site.id);
      const kind = own.length > 0 && own.every((d) => d.kind === 'background') ? 'background' : 'site';
      const alerts = active.get(site.id) ?? { warning: 0, critical: 0 };
      lines.push(pointToLine(SITE_STATUS_MEASUREMENT, { site: site.id, district: site.district, kind }, {
        lat: site.lat, lon: site.lon, devices: { int: own.length }, online: { int: own.filter((d) => d.online).length },
        active_warning: { int: alerts.warning }, active_critical: { int: alerts.critical }, name: site.name,
      }, now));
    }
    for (const d of devices) {
      const fields: Record<string, number | { int: number }> = { online: { int: d.online ? 1 : 0 } };
      if (d.lastSeenAt) fields['last_seen_age_s'] = Math.max(0, Math.round((now - Date.parse(d.lastSeenAt)) / 1000));
      lines.push(pointToLine(DEVICE_STATUS_MEASUREMENT, { device: d.id, site: d.siteId, kind: d.kind }, fields, now));
    }
    await this.spool.append(lines, now);
    return lines.length;
  }
}
