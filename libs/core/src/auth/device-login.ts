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
  /**
   * Per device id from the address it last logged in from: that address is not held to the two
   * throttles above (others' failures must not lock a device out), but its own failures are
   * counted here, so it is not an unlimited guessing lane either (issue 25).
   */
  readonly fromKnownAddress: FailureThrottleOptions;
}

export const DEFAULT_DEVICE_LOGIN: DeviceLoginOptions = {
  perAddress: PER_ADDRESS_BACKOFF,
  perDevice: { ...PER_ADDRESS_BACKOFF, freeFailures: 5 },
  // Generous (a DTU re-sending with an old PW after a rotation is no attack) and short blocks, so
  // the device itself gets through soon; still ≤ 2 guesses a minute once past the free 20.
  fromKnownAddress: { ...PER_ADDRESS_BACKOFF, freeFailures: 20, maxBlockMs: 30_000 },
};

/**
 * Device logins for every edge (MQTT CONNECT, HJ 212 MN and PW): the registry's check behind two
 * failure throttles. A blocked address or device id is refused before any lookup, so a flood of
 * wrong passwords costs a map look-up each. A device is not locked out by others' failures: the
 * address it last logged in from passes both throttles for its own id, with a budget of its own
 * whose failures count nowhere else (4,464 guesses in 0.8 s found a 6-digit PW there, issue 25).
 * Addresses are counted per edge: HJ 212 guesses do not block MQTT devices behind the same NAT.
 */
export class DeviceLogin {
  private readonly byAddress: FailureThrottle;
  private readonly byDevice: FailureThrottle;
  private readonly byKnownAddress: FailureThrottle;
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
    this.byKnownAddress = new FailureThrottle(clock, options.fromKnownAddress);
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
    const addressKey = `${edge}:${address}`;
    const known = this.knownAddress.get(identity) === address;
    // The throttles this attempt answers to: its own budget from the known address, else both others.
    const throttles: readonly [FailureThrottle, string][] = known
      ? [[this.byKnownAddress, `${identity}@${address}`]]
      : [
          [this.byAddress, addressKey],
          [this.byDevice, identity],
        ];
    if (throttles.some(([throttle, key]) => throttle.blockedFor(key) > 0)) return this.refused(edge, 'throttled');
    // Counted before the check and refunded on success, so parallel CONNECTs see each other.
    for (const [throttle, key] of throttles) throttle.failure(key);
    let result: DeviceAuthResult;
    try {
      result = await check();
    } catch (error) {
      for (const [throttle, key] of throttles) throttle.refund(key);
      throw error;
    }
    if (!result.ok) return this.refused(edge, result.reason === 'disabled' ? 'disabled' : 'bad_credentials');
    if (known) this.byKnownAddress.success(`${identity}@${address}`);
    else {
      this.byAddress.refund(addressKey);
      this.byDevice.success(identity);
    }
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
