import { randomBytes } from 'node:crypto';
import { DeviceLogin, IngestMetrics, RegistryService, SecretHasher, legacyScryptHash } from '@dustwatch/core';
import { RegistryRepository } from './registry.repository';
import { tempMainDatabase } from './temp-database';

const clock = { t: Date.parse('2026-11-28T08:00:00Z'), now: () => clock.t };
const login = { freeFailures: 2, baseBlockMs: 1000, maxBlockMs: 60_000, forgetAfterMs: 600_000, maxKeys: 1000 };

async function setup() {
  const temp = await tempMainDatabase();
  const repo = new RegistryRepository(temp.main);
  const registry = new RegistryService(repo, clock, new SecretHasher(randomBytes(32)));
  await registry.createSite({ id: 'S1', name: 'site', district: 'd', lat: 36, lon: 113 });
  const { secret } = await registry.createDevice({ id: 'dev-1', siteId: 'S1', model: 'm', kind: 'site' });
  const metrics = new IngestMetrics();
  const logins = new DeviceLogin(registry, clock, metrics, {
    perAddress: login,
    perDevice: login,
    fromKnownAddress: login,
  });
  return { temp, repo, registry, secret, metrics, logins };
}

/** dev-1 gets the HJ 212 identity MN CZ001HJ0000001 with this PW. */
const giveDev1Hj212 = (registry: RegistryService, password: string) =>
  registry.importFleet({
    version: 1,
    sites: [
      {
        id: 'S1',
        name: 'site',
        district: 'd',
        lat: 36,
        lon: 113,
        devices: [{ id: 'dev-1', model: 'm', kind: 'site', hj212: { mn: 'CZ001HJ0000001', password } }],
      },
    ],
  });

const refusals = async (metrics: IngestMetrics, reason: string) =>
  (await metrics.deviceLoginsRefused.get()).values.find((v) => v.labels.reason === reason && v.labels.edge === 'mqtt')
    ?.value ?? 0;

describe('device secrets', () => {
  it('are stored as a peppered HMAC, checked without the thread pool, refused for another pepper', async () => {
    const { temp, repo, registry, secret } = await setup();
    try {
      const stored = (await repo.findCredentials('dev-1'))!.secretHash;
      expect(stored).toMatch(/^hmac-sha256\$[A-Za-z0-9+/]{43}=$/);
      expect((await registry.authenticateDevice('dev-1', secret)).ok).toBe(true);
      expect(await registry.authenticateDevice('dev-1', secret + 'x')).toEqual({
        ok: false,
        reason: 'unknown_or_bad_secret',
      });
      expect(await registry.authenticateDevice('nobody', secret)).toEqual({
        ok: false,
        reason: 'unknown_or_bad_secret',
      });
      const otherPepper = new SecretHasher(randomBytes(32));
      expect((await otherPepper.verify(secret, stored)).ok).toBe(false);
    } finally {
      temp.dispose();
    }
  });

  it('of the former scrypt scheme still log in once, and are rewritten as HMAC then', async () => {
    const { temp, repo, registry } = await setup();
    try {
      const secret = 'a-fleet-file-secret-of-old';
      await repo.setSecretHash('dev-1', await legacyScryptHash(secret), clock.now());
      expect((await registry.authenticateDevice('dev-1', secret + '!')).ok).toBe(false);
      expect((await repo.findCredentials('dev-1'))!.secretHash).toMatch(/^scrypt\$/);
      expect((await registry.authenticateDevice('dev-1', secret)).ok).toBe(true);
      expect((await repo.findCredentials('dev-1'))!.secretHash).toMatch(/^hmac-sha256\$/);
      expect((await registry.authenticateDevice('dev-1', secret)).ok).toBe(true);
    } finally {
      temp.dispose();
    }
  });

  it('a rotation between check and rewrite wins over the rewrite', async () => {
    const { temp, repo } = await setup();
    try {
      const old = (await repo.findCredentials('dev-1'))!.secretHash;
      await repo.setSecretHash('dev-1', 'hmac-sha256$rotated', clock.now());
      expect(await repo.replaceSecretHash('dev-1', old, 'hmac-sha256$stale', clock.now())).toBe(false);
      expect((await repo.findCredentials('dev-1'))!.secretHash).toBe('hmac-sha256$rotated');
    } finally {
      temp.dispose();
    }
  });
});

describe('DeviceLogin', () => {
  it('throttles an address after its free failures, refusing unchecked, with a doubling block', async () => {
    const { temp, secret, metrics, logins } = await setup();
    try {
      const before = await refusals(metrics, 'throttled');
      for (let i = 0; i < 3; i++) await logins.login('mqtt', `guess-${i}`, 'wrong-secret-000', '10.0.0.9');
      // Blocked for 1 s: even the right secret from that address is refused unchecked...
      expect(await logins.login('mqtt', 'dev-1', secret, '10.0.0.9')).toEqual({ ok: false, reason: 'throttled' });
      // ...while another address is served.
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.7')).ok).toBe(true);
      clock.t += 1000;
      await logins.login('mqtt', 'guess-x', 'wrong-secret-000', '10.0.0.9');
      clock.t += 1000;
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.9')).ok).toBe(false); // now 2 s
      clock.t += 1000;
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.9')).ok).toBe(true);
      expect((await refusals(metrics, 'throttled')) - before).toBe(2);
    } finally {
      temp.dispose();
    }
  });

  it('throttles guesses at one device from many addresses, but not the device from its own address', async () => {
    const { temp, secret, logins, registry } = await setup();
    try {
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.1')).ok).toBe(true);
      for (let i = 0; i < 3; i++) await logins.login('mqtt', 'dev-1', `wrong-${i}-secret-xx`, `10.2.0.${i}`);
      expect(await logins.login('mqtt', 'dev-1', secret, '10.3.0.1')).toEqual({ ok: false, reason: 'throttled' });
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.1')).ok).toBe(true);
      // A new secret: the address no longer vouches for the device.
      const rotated = await registry.rotateSecret('dev-1');
      for (let i = 0; i < 3; i++) await logins.login('mqtt', 'dev-1', `wrong-${i}-secret-yy`, `10.4.0.${i}`);
      expect(await logins.login('mqtt', 'dev-1', rotated.secret, '10.0.0.1')).toEqual({
        ok: false,
        reason: 'throttled',
      });
    } finally {
      temp.dispose();
    }
  });

  it('checks HJ 212 MN and PW the same way: refused alike when unknown or wrong, throttled per MN', async () => {
    const { temp, registry, logins, repo } = await setup();
    try {
      await repo.setHj212(
        'dev-1',
        {
          settings: { mn: 'CZ001HJ0000001', crc: 'hj212', units: {} },
          passwordHash: new SecretHasher(randomBytes(32)).hash('other-pepper'),
        },
        clock.now(),
      );
      // Stored under another pepper: no PW matches, as for an unknown MN.
      expect(await registry.authenticateHj212('CZ001HJ0000001', 'other-pepper')).toEqual({
        ok: false,
        reason: 'unknown_or_bad_secret',
      });
      await giveDev1Hj212(registry, '123456');
      const ok = await logins.loginHj212('CZ001HJ0000001', '123456', '10.0.0.1');
      expect(ok.ok && ok.device.hj212).toEqual({ mn: 'CZ001HJ0000001', crc: 'hj212', units: {} });
      expect(await registry.authenticateHj212('NOSUCHMN01', '123456')).toEqual({
        ok: false,
        reason: 'unknown_or_bad_secret',
      });
      for (let i = 0; i < 3; i++) await logins.loginHj212('CZ001HJ0000001', '000000', `10.6.0.${i}`);
      expect(await logins.loginHj212('CZ001HJ0000001', '123456', '10.7.0.1')).toEqual({
        ok: false,
        reason: 'throttled',
      });
      expect((await logins.loginHj212('CZ001HJ0000001', '123456', '10.0.0.1')).ok).toBe(true);
    } finally {
      temp.dispose();
    }
  });
  it('counts a guess before its check: parallel CONNECTs with wrong secrets get the free failures checked, the rest refused unchecked (issue 22)', async () => {
    const { temp, logins, metrics } = await setup();
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => logins.login('mqtt', 'dev-1', `wrong-secret-${i}-0123456789`, '10.9.9.9')),
      );
      // 2 free failures, the 3rd blocks: 3 checked, 17 refused before any look-up.
      expect(results.filter((r) => !r.ok && r.reason === 'bad_credentials')).toHaveLength(3);
      expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(17);
      expect(await refusals(metrics, 'throttled')).toBe(17);
    } finally {
      temp.dispose();
    }
  });

  it("from its known address a device's PW has a budget of its own: guesses there are throttled, lock the device out nowhere else, and block no other device (issue 25)", async () => {
    const { temp, registry, logins, secret } = await setup();
    try {
      await giveDev1Hj212(registry, '246810');
      const { secret: otherSecret } = await registry.createDevice({
        id: 'dev-2',
        siteId: 'S1',
        model: 'm',
        kind: 'site',
      });
      expect((await logins.loginHj212('CZ001HJ0000001', '246810', '10.0.0.1')).ok).toBe(true);
      // 10 parallel guesses from the device's own address: 2 free failures, the 3rd blocks; the rest unchecked.
      const guesses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => logins.loginHj212('CZ001HJ0000001', String(100000 + i), '10.0.0.1')),
      );
      expect(guesses.filter((r) => !r.ok && r.reason === 'bad_credentials')).toHaveLength(3);
      expect(guesses.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(7);
      expect(await logins.loginHj212('CZ001HJ0000001', '246810', '10.0.0.1')).toEqual({
        ok: false,
        reason: 'throttled',
      });
      // Not locked out elsewhere: the right PW from a new address is checked and taken.
      expect((await logins.loginHj212('CZ001HJ0000001', '246810', '10.8.0.1')).ok).toBe(true);
      // Nor another device at that address, on either edge.
      expect((await logins.login('mqtt', 'dev-2', otherSecret, '10.0.0.1')).ok).toBe(true);
      expect((await logins.login('mqtt', 'dev-1', secret, '10.0.0.1')).ok).toBe(true);
      clock.t += 1001; // the first block is over
      expect((await logins.loginHj212('CZ001HJ0000001', '246810', '10.0.0.1')).ok).toBe(true);
    } finally {
      temp.dispose();
    }
  });

  it('counts failed addresses per edge: HJ 212 guesses from an address do not block an MQTT device behind it (issue 25)', async () => {
    const { temp, logins, secret } = await setup();
    try {
      for (let i = 0; i < 5; i++) await logins.loginHj212(`NOSUCHMN0${i}`, '000000', '10.5.5.5');
      expect(await logins.loginHj212('NOSUCHMN09', '000000', '10.5.5.5')).toEqual({ ok: false, reason: 'throttled' });
      expect((await logins.login('mqtt', 'dev-1', secret, '10.5.5.5')).ok).toBe(true);
    } finally {
      temp.dispose();
    }
  });
});
