import { DeviceDirectory, DeviceInfo } from '@dustwatch/rules';
import { RegistryStore } from '../ports/registry-store';
import { Presence } from '../presence/presence';

/**
 * The rule engine's view of the fleet: who each device is (cached from the registry, reloaded
 * when the fleet changes and once a minute) and when it was last seen (from the presence record,
 * its one owner).
 */
export class RegistryDirectory implements DeviceDirectory {
  private devices = new Map<string, DeviceInfo>();
  private backgrounds = new Map<string, string[]>();

  constructor(
    private readonly registry: RegistryStore,
    private readonly presence: Presence,
  ) {}

  async refresh(): Promise<void> {
    const rows = await this.registry.deviceDirectory();
    this.devices = new Map(rows.map((r) => [r.deviceId, r]));
    const backgrounds = new Map<string, string[]>();
    for (const r of rows)
      if (r.kind === 'background') backgrounds.set(r.district, [...(backgrounds.get(r.district) ?? []), r.deviceId]);
    this.backgrounds = backgrounds;
  }

  device(deviceId: string): DeviceInfo | undefined {
    return this.devices.get(deviceId);
  }

  backgroundDevices(district: string): readonly string[] {
    return this.backgrounds.get(district) ?? [];
  }

  allDevices(): readonly DeviceInfo[] {
    return [...this.devices.values()];
  }

  lastSeenAt(deviceId: string): number | undefined {
    return this.presence.lastSeenAt(deviceId);
  }
}
