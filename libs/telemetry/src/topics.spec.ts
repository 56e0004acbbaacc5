import { isValidId } from './ids';
import { deviceTopic, mayPublish, maySubscribe, mayWatchAlerts, parseDeviceTopic } from './topics';

describe('ids', () => {
  it.each(['d1', 'CZ-001_a', 'a'.repeat(64)])('accepts %s', (id) => expect(isValidId(id)).toBe(true));
  it.each(['', '-d1', 'a+b', 'a#', 'a/b', 'a b', 'a,b', 'a'.repeat(65), 'é'])('refuses %j', (id) =>
    expect(isValidId(id)).toBe(false),
  );
});

describe('topics', () => {
  it('builds and parses device topics', () => {
    expect(deviceTopic('d1', 'readings')).toBe('devices/d1/readings');
    expect(parseDeviceTopic('devices/d1/readings')).toEqual({ deviceId: 'd1', kind: 'readings' });
    expect(parseDeviceTopic('devices/d1/readings/x')).toBeNull();
    expect(parseDeviceTopic('devices/+/readings')).toBeNull();
  });

  it('lets a device publish only its own readings and status', () => {
    expect(mayPublish('d1', 'devices/d1/readings')).toBe(true);
    expect(mayPublish('d1', 'devices/d1/status')).toBe(true);
    expect(mayPublish('d1', 'devices/d1/errors')).toBe(false);
    expect(mayPublish('d1', 'devices/d2/readings')).toBe(false);
    expect(mayPublish('d1', 'alerts/s1')).toBe(false);
  });

  it('lets a device subscribe only below its own subtree', () => {
    expect(maySubscribe('d1', 'devices/d1/errors')).toBe(true);
    expect(maySubscribe('d1', 'devices/d1/#')).toBe(true);
    expect(maySubscribe('d1', 'devices/d1/+')).toBe(true);
    expect(maySubscribe('d1', 'devices/+/errors')).toBe(false);
    expect(maySubscribe('d1', 'devices/#')).toBe(false);
    expect(maySubscribe('d1', '#')).toBe(false);
    expect(maySubscribe('d1', 'devices/d10/errors')).toBe(false);
    expect(maySubscribe('d1', 'devices/d1/#/x')).toBe(false);
    expect(maySubscribe('d1', 'devices/d1/')).toBe(false);
  });
});

describe('mayWatchAlerts', () => {
  it.each([
    ['alerts/#', true],
    ['alerts/+', true],
    ['alerts/CZ-001', true],
    ['alerts/CZ-001/#', false],
    ['alerts', false],
    ['#', false],
    ['devices/CZ-001-M1/readings', false],
    ['alerts/a b', false],
  ])('%s → %s', (filter, allowed) => {
    expect(mayWatchAlerts(filter)).toBe(allowed);
  });
});
