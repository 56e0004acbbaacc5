import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConflictError, InvalidInputError, NotFoundError } from '../core/errors';
import { Clock } from '../core/tokens';
import { CreateDeviceDto, CreateSiteDto, FleetFileDto, describeValidationErrors } from './registry.dto';
import { Device, DeviceWithStatus, RegistryRepository, Site } from './registry.repository';
import { DUMMY_HASH, generateSecret, hashSecret, verifySecret } from './secrets';

export type DeviceAuthResult =
  | { ok: true; device: Device }
  | { ok: false; reason: 'unknown_or_bad_secret' | 'disabled' };

export interface FleetImportSummary {
  sites: { created: number; updated: number };
  devices: { created: number; updated: number };
  /** Secrets generated for devices the file gave none: shown once, stored only hashed. */
  generatedSecrets: { deviceId: string; secret: string }[];
}

/**
 * Sites and devices: provisioning, secrets and device authentication. Knows nothing of HTTP or
 * MQTT; listeners hear when a device's credentials stop being valid so the broker can drop it.
 */
export class RegistryService {
  private readonly revokedListeners = new Set<(deviceId: string) => void>();

  constructor(private readonly repo: RegistryRepository, private readonly clock: Clock) {}

  onCredentialsRevoked(listener: (deviceId: string) => void): void {
    this.revokedListeners.add(listener);
  }

  createSite(dto: CreateSiteDto): Site {
    if (this.repo.findSite(dto.id)) throw new ConflictError(`site ${dto.id} already exists`);
    const site = { id: dto.id, name: dto.name, district: dto.district, lat: dto.lat, lon: dto.lon, areaM2: dto.areaM2 ?? null };
    this.repo.upsertSite(site, this.clock.now());
    return site;
  }

  listSites(): Site[] {
    return this.repo.listSites();
  }

  async createDevice(dto: CreateDeviceDto): Promise<{ device: Device; secret: string }> {
    if (!this.repo.findSite(dto.siteId)) throw new InvalidInputError(`site ${dto.siteId} does not exist`);
    if (this.repo.findDevice(dto.id)) throw new ConflictError(`device ${dto.id} already exists`);
    const secret = generateSecret();
    const hash = await hashSecret(secret);
    const device: Device = { id: dto.id, siteId: dto.siteId, model: dto.model, kind: dto.kind, enabled: true };
    // Re-check after the await: another request may have created it meanwhile (the PK also guards).
    if (this.repo.findDevice(dto.id)) throw new ConflictError(`device ${dto.id} already exists`);
    this.repo.upsertDevice(device, hash, this.clock.now());
    return { device, secret };
  }

  listDevices(siteId?: string): DeviceWithStatus[] {
    return this.repo.listDevices(siteId);
  }

  deviceExists(id: string): boolean {
    return this.repo.findDevice(id) !== undefined;
  }

  getDevice(id: string): Device {
    const device = this.repo.findDevice(id);
    if (!device) throw new NotFoundError(`device ${id} does not exist`);
    return device;
  }

  async rotateSecret(id: string): Promise<{ device: Device; secret: string }> {
    const device = this.getDevice(id);
    const secret = generateSecret();
    this.repo.setSecretHash(id, await hashSecret(secret), this.clock.now());
    this.emitRevoked(id);
    return { device, secret };
  }

  setEnabled(id: string, enabled: boolean): Device {
    this.getDevice(id);
    this.repo.setEnabled(id, enabled, this.clock.now());
    if (!enabled) this.emitRevoked(id);
    return this.getDevice(id);
  }

  /** Checks a CONNECT's credentials. Unknown id and wrong secret look the same from outside. */
  async authenticateDevice(id: string, secret: string): Promise<DeviceAuthResult> {
    const credentials = this.repo.findCredentials(id);
    const matches = await verifySecret(secret, credentials?.secretHash ?? DUMMY_HASH);
    if (!credentials || !matches) return { ok: false, reason: 'unknown_or_bad_secret' };
    if (!credentials.enabled) return { ok: false, reason: 'disabled' };
    const { secretHash: _hidden, ...device } = credentials;
    return { ok: true, device };
  }

  /**
   * Validates a whole fleet file first (every problem listed), then upserts it in one
   * transaction: re-importing the same file is harmless. Devices keep their secret unless the
   * file gives one; new devices without one get a generated secret in the summary.
   */
  async importFleet(document: unknown, onProgress: (done: number, total: number) => void = () => undefined): Promise<FleetImportSummary> {
    const fleet = plainToInstance(FleetFileDto, document);
    const problems = typeof document === 'object' && document !== null
      ? describeValidationErrors(validateSync(fleet, { forbidUnknownValues: true }))
      : ['the fleet file must be a YAML/JSON object with version and sites'];
    const seen = new Set<string>();
    (fleet.sites ?? []).forEach((site, i) => {
      if (seen.has(`site:${site?.id}`)) problems.push(`sites[${i}].id: duplicate site id ${site.id}`);
      seen.add(`site:${site?.id}`);
      (site?.devices ?? []).forEach((device, j) => {
        if (seen.has(`device:${device?.id}`)) problems.push(`sites[${i}].devices[${j}].id: duplicate device id ${device.id}`);
        seen.add(`device:${device?.id}`);
      });
    });
    if (problems.length > 0) throw new InvalidInputError(`fleet file has ${problems.length} problem(s)`, problems);

    const devices = fleet.sites.flatMap((site) => site.devices.map((device) => ({ site, device })));
    const generatedSecrets: FleetImportSummary['generatedSecrets'] = [];
    const hashes = new Map<string, string | null>();
    let done = 0;
    // Hash in parallel on the thread pool; report progress as it goes.
    const changedSecrets: string[] = [];
    await Promise.all(devices.map(async ({ device }) => {
      const existing = this.repo.findCredentials(device.id);
      let secret = device.secret;
      if (!secret && !existing) {
        secret = generateSecret();
        generatedSecrets.push({ deviceId: device.id, secret });
      }
      // An unchanged secret keeps its hash, so re-importing a file does not drop live devices.
      const unchanged = !secret || (existing !== undefined && await verifySecret(secret, existing.secretHash));
      hashes.set(device.id, unchanged ? null : await hashSecret(secret as string));
      if (existing && !unchanged) changedSecrets.push(device.id);
      onProgress(++done, devices.length);
    }));

    const summary: FleetImportSummary = { sites: { created: 0, updated: 0 }, devices: { created: 0, updated: 0 }, generatedSecrets };
    const now = this.clock.now();
    this.repo.transaction(() => {
      for (const site of fleet.sites) {
        summary.sites[this.repo.upsertSite({ id: site.id, name: site.name, district: site.district, lat: site.lat, lon: site.lon, areaM2: site.areaM2 ?? null }, now)] += 1;
        for (const device of site.devices) {
          const outcome = this.repo.upsertDevice({ id: device.id, siteId: site.id, model: device.model, kind: device.kind, enabled: true }, hashes.get(device.id) ?? null, now);
          summary.devices[outcome] += 1;
        }
      }
    });
    for (const id of changedSecrets) this.emitRevoked(id);
    generatedSecrets.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    return summary;
  }

  private emitRevoked(deviceId: string): void {
    for (const listener of this.revokedListeners) listener(deviceId);
  }
}
