import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConflictError, InvalidInputError, NotFoundError } from '../kernel/errors';
import { Clock } from '../kernel/clock';
import { Presence } from '../presence/presence';
import { BrokerAccounts } from '../ports/broker-accounts';
import { Device, DeviceKind, FleetImportSite, Hj212Write, RegistryStore, Site } from '../ports/registry-store';
import { FleetFileDto, Hj212Dto, describeValidationErrors } from './fleet-file';
import { SecretHasher, generateSecret } from './secrets';

export interface NewSite {
  id: string;
  name: string;
  district: string;
  lat: number;
  lon: number;
  areaM2?: number;
}

export interface NewDevice {
  id: string;
  siteId: string;
  model: string;
  kind: DeviceKind;
  hj212?: Hj212Dto;
}

export interface DeviceWithStatus extends Device {
  online: boolean;
  /** ISO 8601 (UTC) or null. */
  lastConnectAt: string | null;
  lastDisconnectAt: string | null;
  lastSeenAt: string | null;
  /** Last message on devices/{id}/status (often the last will) and when it came. */
  lastStatus: string | null;
  lastStatusAt: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export type DeviceAuthResult =
  { ok: true; device: Device } | { ok: false; reason: 'unknown_or_bad_secret' | 'disabled' };

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
  private readonly changedListeners = new Set<() => void>();
  private brokerAccounts: BrokerAccounts | null = null;

  /** `presence` is absent in the offline CLI, which lists no devices. */
  constructor(
    private readonly repo: RegistryStore,
    private readonly clock: Clock,
    private readonly secrets: SecretHasher,
    private readonly presence?: Presence,
  ) {}

  /** A device's credentials stopped being valid: an edge drops its connection. */
  onCredentialsRevoked(listener: (deviceId: string) => void): void {
    this.revokedListeners.add(listener);
  }

  /**
   * Several instances behind Mosquitto (docs/cluster.md): each secret issued from now on reaches
   * the broker before the registry stores its hash, and every enable/disable follows it there.
   */
  useBrokerAccounts(accounts: BrokerAccounts): void {
    this.brokerAccounts = accounts;
  }

  /** Sites or devices were created or changed: the rule engine's directory reloads. */
  onFleetChanged(listener: () => void): void {
    this.changedListeners.add(listener);
  }

  async createSite(dto: NewSite): Promise<Site> {
    if (await this.repo.findSite(dto.id)) throw new ConflictError(`site ${dto.id} already exists`);
    const site = {
      id: dto.id,
      name: dto.name,
      district: dto.district,
      lat: dto.lat,
      lon: dto.lon,
      areaM2: dto.areaM2 ?? null,
    };
    await this.repo.upsertSite(site, this.clock.now());
    this.emitChanged();
    return site;
  }

  listSites(): Promise<Site[]> {
    return this.repo.listSites();
  }

  async createDevice(dto: NewDevice): Promise<{ device: Device; secret: string }> {
    if (!(await this.repo.findSite(dto.siteId))) throw new InvalidInputError(`site ${dto.siteId} does not exist`);
    if (await this.repo.findDevice(dto.id)) throw new ConflictError(`device ${dto.id} already exists`);
    const secret = generateSecret();
    const hash = this.secrets.hash(secret);
    const device: Device = { id: dto.id, siteId: dto.siteId, model: dto.model, kind: dto.kind, enabled: true };
    const hj212 = dto.hj212 ? this.hj212Write(dto.hj212) : null;
    if (hj212 && (await this.repo.findHj212(hj212.settings.mn)))
      throw new ConflictError(`MN ${hj212.settings.mn} belongs to another device`);
    await this.brokerAccounts?.setSecrets([{ deviceId: dto.id, secret }]);
    // Another request may have created it meanwhile: the insert itself decides.
    if (!(await this.repo.insertDevice(device, hash, this.clock.now())))
      throw new ConflictError(`device ${dto.id} already exists`);
    if (hj212) {
      await this.repo.setHj212(device.id, hj212, this.clock.now());
      device.hj212 = hj212.settings;
    }
    this.emitChanged();
    return { device, secret };
  }

  /** Devices with their presence (connection, last reading, last status message). */
  async listDevices(siteId?: string): Promise<DeviceWithStatus[]> {
    return (await this.repo.listDevices(siteId)).map((d) => {
      const p = this.presence?.get(d.id);
      return {
        ...d,
        online: p?.online ?? false,
        lastConnectAt: iso(p?.lastConnectAt ?? null),
        lastDisconnectAt: iso(p?.lastDisconnectAt ?? null),
        lastSeenAt: iso(p?.lastSeenAt ?? null),
        lastStatus: p?.lastStatus ?? null,
        lastStatusAt: iso(p?.lastStatusAt ?? null),
      };
    });
  }

  async getSite(id: string): Promise<Site> {
    const site = await this.repo.findSite(id);
    if (!site) throw new NotFoundError(`site ${id} does not exist`);
    return site;
  }

  async deviceExists(id: string): Promise<boolean> {
    return (await this.repo.findDevice(id)) !== undefined;
  }

  async getDevice(id: string): Promise<Device> {
    const device = await this.repo.findDevice(id);
    if (!device) throw new NotFoundError(`device ${id} does not exist`);
    return device;
  }

  async rotateSecret(id: string): Promise<{ device: Device; secret: string }> {
    const device = await this.getDevice(id);
    const secret = generateSecret();
    await this.brokerAccounts?.setSecrets([{ deviceId: id, secret }]);
    await this.repo.setSecretHash(id, this.secrets.hash(secret), this.clock.now());
    this.emitRevoked(id);
    return { device, secret };
  }

  async setEnabled(id: string, enabled: boolean): Promise<Device> {
    await this.getDevice(id);
    await this.repo.setEnabled(id, enabled, this.clock.now());
    await this.brokerAccounts?.setEnabled(id, enabled);
    if (!enabled) this.emitRevoked(id);
    this.emitChanged();
    return this.getDevice(id);
  }

  /**
   * Checks a login's credentials (use DeviceLogin, which throttles failures). Unknown id and
   * wrong secret look the same from outside. A hash of the former scrypt scheme is rewritten
   * now that the secret is known, unless the secret was changed meanwhile.
   */
  async authenticateDevice(id: string, secret: string): Promise<DeviceAuthResult> {
    const credentials = await this.repo.findCredentials(id);
    const check = await this.secrets.verify(secret, credentials?.secretHash);
    if (!credentials || !check.ok) return { ok: false, reason: 'unknown_or_bad_secret' };
    if (!credentials.enabled) return { ok: false, reason: 'disabled' };
    const { secretHash, ...device } = credentials;
    if (check.needsRehash)
      await this.repo.replaceSecretHash(id, secretHash, this.secrets.hash(secret), this.clock.now());
    return { ok: true, device };
  }

  /**
   * Checks an HJ 212 login: the MN names the device, PW is its access password. Unknown MN and
   * wrong PW look the same from outside. Use DeviceLogin, which throttles failures.
   */
  async authenticateHj212(mn: string, password: string): Promise<DeviceAuthResult> {
    const found = await this.repo.findHj212(mn);
    const check = await this.secrets.verify(password, found?.passwordHash);
    if (!found || !check.ok) return { ok: false, reason: 'unknown_or_bad_secret' };
    if (!found.device.enabled) return { ok: false, reason: 'disabled' };
    return { ok: true, device: found.device };
  }

  private hj212Write(dto: Hj212Dto): Hj212Write {
    return {
      settings: { mn: dto.mn, crc: dto.crc ?? 'hj212', units: dto.units ?? {} },
      passwordHash: this.secrets.hash(dto.password),
    };
  }

  /**
   * Validates a whole fleet file first (every problem listed), then upserts it in one
   * transaction: re-importing the same file is harmless. Devices keep their secret unless the
   * file gives one; new devices without one get a generated secret in the summary.
   */
  async importFleet(
    document: unknown,
    onProgress: (done: number, total: number) => void = () => undefined,
  ): Promise<FleetImportSummary> {
    const fleet = plainToInstance(FleetFileDto, document);
    const problems =
      typeof document === 'object' && document !== null
        ? describeValidationErrors(validateSync(fleet, { forbidUnknownValues: true }))
        : ['the fleet file must be a YAML/JSON object with version and sites'];
    const seen = new Set<string>();
    (fleet.sites ?? []).forEach((site, i) => {
      if (seen.has(`site:${site?.id}`)) problems.push(`sites[${i}].id: duplicate site id ${site.id}`);
      seen.add(`site:${site?.id}`);
      (site?.devices ?? []).forEach((device, j) => {
        if (seen.has(`device:${device?.id}`))
          problems.push(`sites[${i}].devices[${j}].id: duplicate device id ${device.id}`);
        seen.add(`device:${device?.id}`);
        const mn = device?.hj212?.mn;
        if (mn !== undefined) {
          if (seen.has(`mn:${mn}`)) problems.push(`sites[${i}].devices[${j}].hj212.mn: duplicate MN ${mn}`);
          seen.add(`mn:${mn}`);
        }
      });
    });
    if (problems.length > 0) throw new InvalidInputError(`fleet file has ${problems.length} problem(s)`, problems);

    const devices = fleet.sites.flatMap((site) => site.devices.map((device) => ({ site, device })));
    const generatedSecrets: FleetImportSummary['generatedSecrets'] = [];
    const hashes = new Map<string, string | null>();
    let done = 0;
    // Checks of old scrypt hashes run in parallel on the thread pool; report progress as it goes.
    const changedSecrets: string[] = [];
    const issued: { deviceId: string; secret: string }[] = [];
    await Promise.all(
      devices.map(async ({ device }) => {
        const existing = await this.repo.findCredentials(device.id);
        let secret = device.secret;
        if (!secret && !existing) {
          secret = generateSecret();
          generatedSecrets.push({ deviceId: device.id, secret });
        }
        // An unchanged secret keeps its hash, so re-importing a file does not drop live devices.
        const unchanged =
          !secret || (existing !== undefined && (await this.secrets.verify(secret, existing.secretHash)).ok);
        hashes.set(device.id, unchanged ? null : this.secrets.hash(secret as string));
        if (!unchanged) issued.push({ deviceId: device.id, secret: secret as string });
        if (existing && !unchanged) changedSecrets.push(device.id);
        onProgress(++done, devices.length);
      }),
    );

    const sites: FleetImportSite[] = fleet.sites.map((site) => ({
      site: {
        id: site.id,
        name: site.name,
        district: site.district,
        lat: site.lat,
        lon: site.lon,
        areaM2: site.areaM2 ?? null,
      },
      devices: site.devices.map((device) => ({
        device: { id: device.id, siteId: site.id, model: device.model, kind: device.kind, enabled: true },
        secretHash: hashes.get(device.id) ?? null,
        hj212: device.hj212 ? this.hj212Write(device.hj212) : null,
      })),
    }));
    await this.brokerAccounts?.setSecrets(issued);
    const counts = await this.repo.importFleet(sites, this.clock.now());
    for (const id of changedSecrets) this.emitRevoked(id);
    this.emitChanged();
    generatedSecrets.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    return { ...counts, generatedSecrets };
  }

  private emitRevoked(deviceId: string): void {
    for (const listener of this.revokedListeners) listener(deviceId);
  }

  private emitChanged(): void {
    for (const listener of this.changedListeners) listener();
  }
}
