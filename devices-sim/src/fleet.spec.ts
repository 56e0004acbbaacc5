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
});
