import { StoreHarness, eachFreshStores } from './store-harness';

export function peopleStoreContract(h: StoreHarness): void {
  describe(`PeopleStore and ApiKeyStore (${h.engine})`, () => {
    const stores = eachFreshStores(h);

    it('keeps accounts and sessions: disabled people and expired sessions find none', async () => {
      const p = stores().people;
      expect(
        await p.createUser({ name: 'wang', displayName: '王工', role: 'inspector', createdAt: 1 }, 'scrypt$1'),
      ).toBe(true);
      expect(await p.createUser({ name: 'wang', displayName: 'x', role: 'admin', createdAt: 2 }, 'scrypt$2')).toBe(
        false,
      );
      await p.createUser({ name: 'li', displayName: '李主任', role: 'viewer', createdAt: 3 }, 'scrypt$3');
      expect(await p.countUsers()).toBe(2);
      expect(await p.findUser('wang')).toEqual({
        name: 'wang',
        displayName: '王工',
        role: 'inspector',
        createdAt: 1,
        disabledAt: null,
        passwordHash: 'scrypt$1',
      });
      expect((await p.listUsers()).map((u) => u.name)).toEqual(['li', 'wang']);
      expect(await p.setPassword('wang', 'scrypt$4')).toBe(true);
      expect(await p.setPassword('nobody', 'x')).toBe(false);
      await p.createSession('t1', 'wang', 'c1', 10, 100);
      await p.createSession('t2', 'wang', 'c2', 10, 50);
      await p.createSession('t3', 'li', 'c3', 10, 100);
      expect(await p.findSession('t1', 20)).toEqual({
        userName: 'wang',
        displayName: '王工',
        role: 'inspector',
        csrfHash: 'c1',
        expiresAt: 100,
      });
      expect(await p.findSession('t2', 50)).toBeUndefined(); // expired at 50
      expect(await p.deleteExpiredSessions(60)).toBe(1);
      await p.setDisabled('wang', 30);
      expect(await p.findSession('t1', 31)).toBeUndefined();
      await p.setDisabled('wang', null);
      expect(await p.findSession('t1', 31)).toBeDefined();
      await p.deleteSession('t1');
      expect(await p.findSession('t1', 31)).toBeUndefined();
      await p.deleteSessionsOf('li');
      expect(await p.findSession('t3', 31)).toBeUndefined();
    });

    it('keeps API keys as hashes: one name once, a revoked key holds nothing', async () => {
      const k = stores().apiKeys;
      const created = await k.create('grafana', 'viewer', 'sha-1', Date.parse('2026-12-07T08:00:00Z'));
      expect(created).toEqual({
        id: 1,
        name: 'grafana',
        role: 'viewer',
        createdAt: '2026-12-07T08:00:00.000Z',
        revokedAt: null,
      });
      expect(await k.create('grafana', 'admin', 'sha-2', 1)).toBeNull();
      expect(await k.principalOf('sha-1')).toEqual({ name: 'grafana', role: 'viewer' });
      expect(await k.revoke(1, Date.parse('2026-12-07T09:00:00Z'))).toBe(true);
      expect(await k.revoke(1, 2)).toBe(false);
      expect(await k.principalOf('sha-1')).toBeUndefined();
      expect((await k.list()).map((r) => [r.name, r.revokedAt])).toEqual([['grafana', '2026-12-07T09:00:00.000Z']]);
    });
  });
}
