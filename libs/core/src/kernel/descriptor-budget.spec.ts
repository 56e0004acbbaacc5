import { parseOpenFileLimits, planDescriptors } from './descriptor-budget';

const CONFIGURED = { http: 2000, mqtt: 20_000, mqttPerAddress: 1000, hj212: 20_000, hj212PerAddress: 1000 };

describe('the file-descriptor plan', () => {
  it("fits the edges into Debian's default limit of 1,024, keeping a reserve, and names what it lowered", () => {
    const plan = planDescriptors(1024, CONFIGURED);
    expect(plan.reserved).toBe(256);
    expect(plan.caps).toEqual({ http: 76, mqtt: 307, mqttPerAddress: 76, hj212: 384, hj212PerAddress: 96 });
    expect(plan.caps.http + plan.caps.mqtt + plan.caps.hj212 + plan.reserved).toBeLessThanOrEqual(1024);
    expect(plan.lowered).toContain('DUSTWATCH_HJ212_MAX_CONNECTIONS 20000 → 384');
  });

  it('keeps the configured caps where the limit has room for them (the 20,000 that equalled the limit no longer does)', () => {
    expect(planDescriptors(1_048_576, CONFIGURED)).toMatchObject({ caps: CONFIGURED, lowered: [] });
    const at20k = planDescriptors(20_000, CONFIGURED);
    expect(at20k.caps.hj212).toBe(9500);
    expect(at20k.caps.hj212 + at20k.caps.mqtt + at20k.caps.http).toBe(19_000);
  });

  it('leaves the share of an edge that is off to the others (HJ 212 port 0; MQTT on an external broker)', () => {
    const noHj212 = planDescriptors(20_000, CONFIGURED, { hj212: false, mqtt: true });
    expect([noHj212.caps.mqtt, noHj212.caps.http, noHj212.caps.hj212]).toEqual([15_200, 2000, 1]);
    const noMqtt = planDescriptors(20_000, CONFIGURED, { hj212: true, mqtt: false });
    expect([noMqtt.caps.hj212, noMqtt.caps.http, noMqtt.caps.mqtt]).toEqual([15_833, 2000, 1]);
  });

  it('reads the soft and hard limit from /proc/self/limits', () => {
    const text =
      'Max processes    95xx  95xx  processes\nMax open files            1024                 524288               files     \n';
    expect(parseOpenFileLimits(text)).toEqual({ soft: 1024, hard: 524_288 });
    expect(parseOpenFileLimits('Max open files  unlimited  unlimited  files')).toEqual({
      soft: Number.POSITIVE_INFINITY,
      hard: Number.POSITIVE_INFINITY,
    });
    expect(parseOpenFileLimits('nothing here')).toBeNull();
  });
});
