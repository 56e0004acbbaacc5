import { DevicePresence } from '../ports/presence-store';
import { mergePresence } from './presence';

const p = (change: Partial<DevicePresence>): DevicePresence => ({
  online: false,
  lastConnectAt: null,
  lastDisconnectAt: null,
  lastSeenAt: null,
  lastStatus: null,
  lastStatusAt: null,
  ...change,
});

describe('mergePresence (several instances, each with what it heard)', () => {
  it('takes the later of each time, and online and the status from the newer event', () => {
    const a = p({ online: true, lastConnectAt: 100, lastSeenAt: 500, lastStatus: 'online', lastStatusAt: 100 });
    const b = p({
      online: false,
      lastConnectAt: 100,
      lastDisconnectAt: 400,
      lastSeenAt: 300,
      lastStatus: 'offline',
      lastStatusAt: 400,
    });
    const merged = {
      online: false,
      lastConnectAt: 100,
      lastDisconnectAt: 400,
      lastSeenAt: 500,
      lastStatus: 'offline',
      lastStatusAt: 400,
    };
    expect(mergePresence(a, b)).toEqual(merged);
    expect(mergePresence(b, a)).toEqual(merged); // the order of the views does not matter
  });

  it('keeps the first view on a tie, and an empty view changes nothing', () => {
    const a = p({ online: true, lastConnectAt: 100, lastStatus: 'online', lastStatusAt: 100 });
    expect(mergePresence(a, p({ online: false, lastConnectAt: 100 }))).toEqual(a);
    expect(mergePresence(a, p({}))).toEqual(a);
    expect(mergePresence(p({}), a)).toEqual(a);
  });
});
