import { Clock } from '../kernel/clock';
import { IngestMetrics } from '../kernel/metrics';
import { Device } from '../ports/registry-store';
import { DeviceAuthResult, RegistryService } from '../registry/registry.service';
import { FailureThrottle, FailureThrottleOptions, PER_ADDRESS_BACKOFF } from './failure-throttle';

export type LoginRefusal = 'bad_credentials' | 'disabled' | 'throttled';
export type DeviceLoginResult = { ok: true; device: Device } | { ok: false; reason: LoginRefusal };

export interface DeviceLoginOptions {
  /** Per source address: generous, since many monitors may share a carrier's NAT address. */
  readonly perAddress: FailureThrottleOptions;
  /** Per device id, against guessing one device's secret from many addresses. */
  readonly perDevice: FailureThrottleOptions;
}

export const DEFAULT_DEVICE_LOGIN: DeviceLoginOptions = {
  perAddress: PER_ADDRESS_BACKOFF,
  perDevice: { ...PER_ADDRESS_BACKOFF, freeFailures: 5 },
};

/**
 * Device logins for every edge (MQTT CONNECT, HJ 212 MN and PW): the registry's check behind two
 * failure throttles. A blocked address or device id is refused before any lookup, so a flood of
 * wrong passwords costs a map look-up each. A device is never locked out by others' failures:
 * the address it last logged in from passes both throttles for its own id.
 */
export class DeviceLogin {
  private readonly byAddress: FailureThrottle;
  private readonly byDevice: FailureThrottle;
  /** Device id → the address of its last successful login. */
  private readonly knownAddress = new Map<string, string>();

  constructor(
    private readonly registry: RegistryService,
    clock: Clock,
    private readonly metrics: IngestMetrics,
    private readonly options: DeviceLoginOptions = DEFAULT_DEVICE_LOGIN,
  ) {
    this.byAddress = new FailureThrottle(clock, options.perAddress);
    this.byDevice = new FailureThrottle(clock, options.perDevice);
    registry.onCredentialsRevoked((deviceId) => this.knownAddress.delete(deviceId)); // MQTT identities are device ids
  }

  /** Publishes an edge's refusal series at 0, so dashboards see them before the first refusal. */
  declareEdge(edge: string): void {
    for (const reason of ['bad_credentials', 'disabled', 'throttled'])
      this.metrics.deviceLoginsRefused.inc({ edge, reason }, 0);
  }

  /** An MQTT CONNECT: client id = device id, password = device secret. */
  login(edge: string, deviceId: string, secret: string, address: string): Promise<DeviceLoginResult> {
    return this.attempt(edge, deviceId, address, () => this.registry.authenticateDevice(deviceId, secret));
  }

  /** An HJ 212 frame: MN and PW; throttled per address and per MN like a device id. */
  loginHj212(mn: string, password: string, address: string): Promise<DeviceLoginResult> {
    return this.attempt('hj212', `mn:${mn}`, address, () => this.registry.authenticateHj212(mn, password));
  }

  private async attempt(
    edge: string,
    identity: string,
    address: string,
    check: () => Promise<DeviceAuthResult>,
  ): Promise<DeviceLoginResult> {
    const known = this.knownAddress.get(identity) === address;
    if (!known && (this.byAddress.blockedFor(address) > 0 || this.byDevice.blockedFor(identity) > 0))
      return this.refused(edge, 'throttled');
    // Counted before the check and refunded on success, so parallel CONNECTs see each other.
    this.byAddress.failure(address);
    this.byDevice.failure(identity);
    let result: DeviceAuthResult;
    try {
      result = await check();
    } catch (error) {
      this.byAddress.refund(address);
      this.byDevice.refund(identity);
      throw error;
    }
    if (!result.ok) return this.refused(edge, result.reason === 'disabled' ? 'disabled' : 'bad_credentials');
    this.byAddress.refund(address);
    this.byDevice.success(identity);
    this.knownAddress.delete(identity);
    this.knownAddress.set(identity, address);
    while (this.knownAddress.size > this.options.perDevice.maxKeys)
      this.knownAddress.delete(this.knownAddress.keys().next().value as string);
    return result;
  }

  private refused(edge: string, reason: LoginRefusal): DeviceLoginResult {
    this.metrics.deviceLoginsRefused.inc({ edge, reason });
    return { ok: false, reason };
  }
}
