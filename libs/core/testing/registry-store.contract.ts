import { ConflictError, Device } from '../src';
import { StoreHarness, eachFreshStores } from './store-harness';

const site = { id: 'S1', name: '长治一号工地', district: '潞州区', lat: 36.19, lon: 113.12, areaM2: 12_000 };
const dev = (id: string, siteId = 'S1'): Device => ({ id, siteId, model: 'YC-1000', kind: 'site', enabled: true });
const hj212 = (mn: string) => ({ mn, crc: 'hj212' as const, units: { a34002: 'mg/m3' as const } });

export function registryStoreContract(h: StoreHarness): void {
  describe(`RegistryStore (${h.engine})`, () => {
    const stores = eachFreshStores(h);

    it('creates and updates sites and devices, each value bound as given', async () => {
      const r = stores().registry;
      expect(await r.upsertSite(site, 1)).toBe('created');
      expect(await r.upsertSite({ ...site, name: "O'Brien; DROP TABLE sites; --", areaM2: null }, 2)).toBe('updated');
      expect(await r.findSite('S1')).toEqual({ ...site, name: "O'Brien; DROP TABLE sites; --", areaM2: null });
      expect(await r.insertDevice(dev('S1-M1'), 'hash-1', 3)).toBe(true);
      expect(await r.insertDevice(dev('S1-M1'), 'hash-2', 3)).toBe(false);
      expect(await r.findDevice('S1-M1')).toEqual(dev('S1-M1'));
      expect(await r.findCredentials('S1-M1')).toEqual({ ...dev('S1-M1'), secretHash: 'hash-1' });
      expect(await r.setEnabled('S1-M1', false, 4)).toBe(true);
      expect(await r.setEnabled('nobody', false, 4)).toBe(false);
      expect((await r.findDevice('S1-M1'))?.enabled).toBe(false);
      expect(await r.replaceSecretHash('S1-M1', 'stale', 'hash-3', 5)).toBe(false);
      expect(await r.replaceSecretHash('S1-M1', 'hash-1', 'hash-3', 5)).toBe(true);
      expect(await r.setSecretHash('S1-M1', 'hash-4', 6)).toBe(true);
      expect((await r.findCredentials('S1-M1'))?.secretHash).toBe('hash-4');
      expect(await r.deviceDirectory()).toEqual([
        { deviceId: 'S1-M1', siteId: 'S1', district: '潞州区', kind: 'site' },
      ]);
      expect(await r.findDevice("x' OR '1'='1")).toBeUndefined();
    });

    it('keeps an HJ 212 identity per device, refuses an MN another device holds, and keeps the password when none is given', async () => {
      const r = stores().registry;
      await r.upsertSite(site, 1);
      await r.insertDevice(dev('S1-M1'), 'h1', 1);
      await r.insertDevice(dev('S1-M2'), 'h2', 1);
      await r.setHj212('S1-M1', { settings: hj212('CZ0001'), passwordHash: 'pw-1' }, 2);
      await expect(r.setHj212('S1-M2', { settings: hj212('CZ0001'), passwordHash: 'pw-2' }, 3)).rejects.toBeInstanceOf(
        ConflictError,
      );
      await r.setHj212('S1-M1', { settings: { ...hj212('CZ0001'), crc: 'modbus-swapped' }, passwordHash: null }, 4);
      expect(await r.findHj212('CZ0001')).toEqual({
        device: { ...dev('S1-M1'), hj212: { ...hj212('CZ0001'), crc: 'modbus-swapped' } },
        passwordHash: 'pw-1',
      });
      expect((await r.listDevices('S1')).map((d) => [d.id, d.hj212?.mn ?? null])).toEqual([
        ['S1-M1', 'CZ0001'],
        ['S1-M2', null],
      ]);
      await r.setHj212('S1-M1', null, 5);
      expect(await r.findHj212('CZ0001')).toBeUndefined();
    });

    it('imports a fleet in one transaction: counts, kept secrets, and nothing written when one device fails', async () => {
      const r = stores().registry;
      const fleet = [
        {
          site,
          devices: [
            { device: dev('S1-M1'), secretHash: 'h1', hj212: { settings: hj212('CZ0001'), passwordHash: 'p1' } },
            { device: dev('S1-M2'), secretHash: 'h2', hj212: null },
          ],
        },
        { site: { ...site, id: 'S2' }, devices: [{ device: dev('S2-M1', 'S2'), secretHash: 'h3', hj212: null }] },
      ];
      expect(await r.importFleet(fleet, 1)).toEqual({
        sites: { created: 2, updated: 0 },
        devices: { created: 3, updated: 0 },
      });
      const again = fleet.map((f) => ({ ...f, devices: f.devices.map((d) => ({ ...d, secretHash: null })) }));
      expect(await r.importFleet(again, 2)).toEqual({
        sites: { created: 0, updated: 2 },
        devices: { created: 0, updated: 3 },
      });
      expect((await r.findCredentials('S1-M1'))?.secretHash).toBe('h1');
      // S3 is new, but its device takes S1-M1's MN: the whole import is refused, S3 included.
      const clash = [
        {
          site: { ...site, id: 'S3' },
          devices: [
            { device: dev('S3-M1', 'S3'), secretHash: 'h4', hj212: { settings: hj212('CZ0001'), passwordHash: 'p4' } },
          ],
        },
      ];
      await expect(r.importFleet(clash, 3)).rejects.toBeInstanceOf(ConflictError);
      expect((await r.listSites()).map((s) => s.id)).toEqual(['S1', 'S2']);
      expect(await r.findDevice('S3-M1')).toBeUndefined();
    });

    it('keeps presence, skipping devices it does not know', async () => {
      const { registry, presence } = stores();
      await registry.upsertSite(site, 1);
      await registry.insertDevice(dev('S1-M1'), 'h', 1);
      const p = {
        online: true,
        lastConnectAt: 10,
        lastDisconnectAt: null,
        lastSeenAt: 12,
        lastStatus: 'online',
        lastStatusAt: 11,
      };
      await presence.save(
        new Map([
          ['S1-M1', p],
          ['removed-meanwhile', p],
        ]),
      );
      await presence.save(new Map([['S1-M1', { ...p, online: false, lastDisconnectAt: 20 }]]));
      expect([...(await presence.loadAll())]).toEqual([['S1-M1', { ...p, online: false, lastDisconnectAt: 20 }]]);
    });
  });
}
