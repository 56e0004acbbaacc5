import { isValidId } from '@dustwatch/telemetry';
import { DISTRICTS, generateFleet } from './fleet';

describe('generateFleet', () => {
  const fleet = generateFleet(152, 1);
  const construction = fleet.sites.filter((s) => s.id.startsWith('CZ-'));
  const background = fleet.sites.filter((s) => s.id.startsWith('BG-'));

  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateFleet(152, 1)).toEqual(fleet);
    expect(generateFleet(152, 2)).not.toEqual(fleet);
  });

  it('has 152 construction sites and one background station per district', () => {
    expect(construction).toHaveLength(152);
    expect(construction[0].id).toBe('CZ-001');
    expect(construction[151].id).toBe('CZ-152');
    expect(background.map((s) => s.district)).toEqual(DISTRICTS.map((d) => d.name));
    expect(background.every((s) => s.devices.length === 1 && s.devices[0].kind === 'background')).toBe(true);
  });

  it('gives large sites two monitors and small ones one', () => {
    for (const site of construction) expect(site.devices).toHaveLength((site.areaM2 ?? 0) > 40_000 ? 2 : 1);
    expect(construction.some((s) => s.devices.length === 2)).toBe(true);
  });

  it('uses valid, unique ids and coordinates around Changzhi', () => {
    const ids = fleet.sites.flatMap((s) => [s.id, ...s.devices.map((d) => d.id)]);
    expect(ids.every(isValidId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of fleet.sites) {
      expect(s.lat).toBeGreaterThan(35.9);
      expect(s.lat).toBeLessThan(36.7);
      expect(s.lon).toBeGreaterThan(112.7);
      expect(s.lon).toBeLessThan(113.4);
    }
    expect(fleet.sites.flatMap((s) => s.devices).every((d) => d.secret.length === 32)).toBe(true);
  });

  it('gives a share of the site monitors an HJ 212 identity, leaving the rest of the fleet as it was', () => {
    const mixed = generateFleet(152, 1, 0.7);
    const strip = (f: typeof fleet) =>
      f.sites.map((s) => ({ ...s, devices: s.devices.map(({ hj212: _hj212, ...d }) => d) }));
    expect(strip(mixed)).toEqual(strip(fleet));
    const devices = mixed.sites.flatMap((s) => s.devices);
    const hj212 = devices.filter((d) => d.hj212);
    expect(hj212.length / devices.filter((d) => d.kind === 'site').length).toBeGreaterThan(0.6);
    expect(hj212.length / devices.filter((d) => d.kind === 'site').length).toBeLessThan(0.8);
    expect(hj212.every((d) => /^[A-Za-z0-9]{9,24}$/.test(d.hj212!.mn) && /^\d{6}$/.test(d.hj212!.password))).toBe(true);
    expect(new Set(hj212.map((d) => d.hj212!.mn)).size).toBe(hj212.length);
    expect(fleet.sites.flatMap((s) => s.devices).some((d) => d.hj212)).toBe(false);
  });
});
