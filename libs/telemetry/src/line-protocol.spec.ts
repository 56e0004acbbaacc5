import { pointToLine, readingToLine, noiseEnergy } from './line-protocol';
import { Reading } from './parse-readings';

const base: Reading = { deviceId: 'dev-1', ts: 1772323200000, serverTime: false, values: {}, flags: {} };

describe('readingToLine', () => {
  it('writes tags in key order, float fields under their schema names, time in ms', () => {
    const line = readingToLine({ ...base, values: { pm10: 120, windSpeed: 3.5, windDir: 270 } }, 'site-7');
    expect(line).toBe('readings,device=dev-1,site=site-7 pm10=120,wind_speed=3.5,wind_dir=270 1772323200000');
  });

  it('adds the noise energy so hourly means can be energy averages', () => {
    expect(readingToLine({ ...base, values: { noise: 70 } }, 's')).toBe(
      'readings,device=dev-1,site=s noise=70,noise_energy=10000000 1772323200000',
    );
    expect(noiseEnergy(60)).toBeCloseTo(1e6, 6);
  });

  it('keeps flagged values apart from compliance fields', () => {
    const line = readingToLine(
      { ...base, values: { pm10: 80, pm25: 30, noise: 50 }, flags: { pm10: 'M', pm25: 'N', noise: 'C' } },
      's',
    );
    expect(line).toBe(
      'readings,device=dev-1,site=s pm25=30,pm10_flagged=80,pm10_flag="M",noise_flagged=50,noise_flag="C" 1772323200000',
    );
  });

  it('marks readings stamped with the server time', () => {
    expect(readingToLine({ ...base, serverTime: true, values: { tsp: 1 } }, 's')).toBe(
      'readings,device=dev-1,site=s tsp=1,server_time=true 1772323200000',
    );
  });

  it('escapes tag syntax even if an unvalidated id slipped through', () => {
    expect(readingToLine({ ...base, deviceId: 'a b,c=d', values: { pm10: 1 } }, 's')).toBe(
      'readings,device=a\\ b\\,c\\=d,site=s pm10=1 1772323200000',
    );
  });
});

describe('pointToLine', () => {
  it('sorts tags, quotes and escapes strings, marks integers', () => {
    expect(
      pointToLine(
        'alert_events',
        { site: 'CZ-001', device: 'CZ-001-M1', rule: 'pm10-hourly' },
        { alert_id: { int: 12 }, value: 151.5, type: 'opened', text: 'say "hi"\\now\nnext' },
        1772323200000,
      ),
    ).toBe(
      'alert_events,device=CZ-001-M1,rule=pm10-hourly,site=CZ-001 alert_id=12i,value=151.5,type="opened",text="say \\"hi\\"\\\\now next" 1772323200000',
    );
  });
});
