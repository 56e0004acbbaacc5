export const DEVICE_KINDS = ['site', 'background'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface Site {
  id: string;
  name: string;
  district: string;
  lat: number;
  lon: number;
  areaM2: number | null;
}

export interface Device {
  id: string;
  siteId: string;
  model: string;
  kind: DeviceKind;
  enabled: boolean;
}

export interface DeviceCredentials extends Device {
  secretHash: string;
}

export interface DirectoryEntry {
  deviceId: string;
  siteId: string;
  district: string;
  kind: DeviceKind;
}

/** One site of a fleet import with its devices; `secretHash` null keeps a device's secret. */
export interface FleetImportSite {
  site: Site;
  devices: { device: Device; secretHash: string | null }[];
}

/** Sites and devices. Every value a bound parameter in any implementation, never concatenated. */
export interface RegistryStore {
  findSite(id: string): Promise<Site | undefined>;
  listSites(): Promise<Site[]>;
  upsertSite(site: Site, now: number): Promise<'created' | 'updated'>;
  findDevice(id: string): Promise<Device | undefined>;
  findCredentials(id: string): Promise<DeviceCredentials | undefined>;
  listDevices(siteId?: string): Promise<Device[]>;
  /** Inserts a new device; false when the id exists already. */
  insertDevice(device: Device, secretHash: string, now: number): Promise<boolean>;
  setSecretHash(id: string, secretHash: string, now: number): Promise<boolean>;
  /** Compare-and-set: replaces the hash only if it is still `expected` (a rotation meanwhile wins). */
  replaceSecretHash(id: string, expected: string, secretHash: string, now: number): Promise<boolean>;
  setEnabled(id: string, enabled: boolean, now: number): Promise<boolean>;
  /** Every device with its site's district: what the rule engine needs to know of the fleet. */
  deviceDirectory(): Promise<DirectoryEntry[]>;
  /** Upserts a whole fleet in one transaction; returns the created/updated counts. */
  importFleet(
    sites: readonly FleetImportSite[],
    now: number,
  ): Promise<{ sites: { created: number; updated: number }; devices: { created: number; updated: number } }>;
}
