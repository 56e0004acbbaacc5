import type { Hj212CrcVariant, Hj212Unit } from '@dustwatch/telemetry';
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

/** How a device speaks HJ 212 (docs/hj212.md): its MN, the CRC its firmware computes, the units of its particulate codes. */
export interface Hj212Settings {
  mn: string;
  crc: Hj212CrcVariant;
  units: Record<string, Hj212Unit>;
}

export interface Device {
  id: string;
  siteId: string;
  model: string;
  kind: DeviceKind;
  enabled: boolean;
  /** Present when the device also (or only) speaks HJ 212 over TCP. */
  hj212?: Hj212Settings;
}

/** A device found by its MN, with what its PW is checked against. */
export interface Hj212Credentials {
  device: Device & { hj212: Hj212Settings };
  passwordHash: string;
}

/** HJ 212 settings to write: a null password hash keeps the stored one. */
export interface Hj212Write {
  settings: Hj212Settings;
  passwordHash: string | null;
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
  devices: { device: Device; secretHash: string | null; hj212: Hj212Write | null }[];
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
  findHj212(mn: string): Promise<Hj212Credentials | undefined>;
  /** Sets (or, with null, removes) a device's HJ 212 identity; throws ConflictError when the MN is another device's. */
  setHj212(deviceId: string, write: Hj212Write | null, now: number): Promise<void>;
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
