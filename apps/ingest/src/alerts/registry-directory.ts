import { DeviceDirectory, DeviceInfo } from '@dustwatch/rules';
import { RegistryRepository } from '../registry/registry.repository';

/**
 * The rule engine's view of the fleet, cached from the registry and reloaded on `refresh()`
 * (every offline tick) and whenever an unknown device shows up (a device provisioned a moment ago).
 */
export class RegistryDirectory implements DeviceDirectory {
  private devices = new Map<string, DeviceInfo>();
  private backgrounds = new Map<string, string[]>();

  constructor(private readonly registry: RegistryRepository) {
    this.refresh();
  }

  refresh(): void {
    const rows = this.registry.deviceDirectory();
    this.devices = new Map(rows.map((r) => [r.deviceId, r]));
    const backgrounds = new Map<string, string[]>();
    for (const r of rows) if (r.kind === 'background') backgrounds.set(r.district, [...(backgrounds.get(r.district) ?? []), r.deviceId]);
    this.backgrounds = backgrounds;
  }

  device(deviceId: string): DeviceInfo | undefined {
    if (!this.devices.has(deviceId)) this.refresh();
    return this.devices.get(deviceId);
  }

  backgroundDevices(district: string): readonly string[] {
    return this.backgrounds.get(district) ?? [];
  }

  allDevices(): readonly DeviceInfo[] {
    return [...this.devices.values()];
  }
}
