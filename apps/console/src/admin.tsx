import { FormEvent, useEffect, useState } from 'react';
import { ApiError, call } from './api';
import { Texts } from './i18n';
import { Schemas } from './model';

type Person = Schemas['PersonResponse'];
type Device = Schemas['DeviceWithStatusResponse'];
type Key = Schemas['ApiKeyResponse'];
const ROLES = ['inspector', 'viewer', 'admin'] as const;

/** Admins: people's accounts, devices (enable, disable, a new secret shown once), API keys for machines. */
export function AdminView({ t }: { t: Texts }) {
  const [people, setPeople] = useState<Person[]>([]);
  const [devices, setDevices] = useState<Device[]>([]);
  const [keys, setKeys] = useState<Key[]>([]);
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () => {
    void call<Person[]>('GET', '/api/users').then(setPeople);
    void call<Device[]>('GET', '/api/devices').then(setDevices);
    void call<Key[]>('GET', '/api/keys').then(setKeys);
  };
  useEffect(load, []);
  const act = (work: () => Promise<unknown>) => {
    setError(null);
    work().then(load, (e: ApiError) => setError(e.message));
  };
  const createUser = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body = {
      name: String(form.get('name')),
      displayName: String(form.get('displayName') || form.get('name')),
      role: String(form.get('role')),
      password: String(form.get('password')),
    };
    const target = e.currentTarget;
    act(() => call('POST', '/api/users', body).then(() => target.reset()));
  };
  const createKey = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const target = e.currentTarget;
    act(() =>
      call<Schemas['CreatedApiKeyResponse']>('POST', '/api/keys', {
        name: String(form.get('name')),
        role: String(form.get('role')),
      }).then((created) => {
        setShown(`${created.name} ${created.key}`);
        target.reset();
      }),
    );
  };
  return (
    <main className="admin">
      <h2>{t.adminPage}</h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {shown && (
        <p role="status" className="secret">
          {t.shownOnce}: <code>{shown}</code>
        </p>
      )}
      <section>
        <h3>{t.people}</h3>
        <form className="inline" onSubmit={createUser} aria-label={t.newPerson}>
          <input name="name" placeholder={t.name} aria-label={t.name} required />
          <input name="displayName" placeholder={t.displayName} aria-label={t.displayName} />
          <RoleSelect t={t} initial="inspector" />
          <input
            name="password"
            type="password"
            placeholder={t.password}
            aria-label={t.password}
            minLength={10}
            required
          />
          <button type="submit">{t.create}</button>
        </form>
        <table>
          <tbody>
            {people.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td>
                <td>{p.displayName}</td>
                <td>{t[p.role as (typeof ROLES)[number]]}</td>
                <td>
                  <EnableToggle t={t} enabled={!p.disabledAt} path={`/api/users/${p.name}`} act={act} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>{t.devices}</h3>
        <table>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id}>
                <td>{d.id}</td>
                <td>{d.siteId}</td>
                <td>{d.online ? t.online : t.offline}</td>
                <td>
                  <EnableToggle t={t} enabled={d.enabled} path={`/api/devices/${d.id}`} act={act} />
                  <button
                    className="link"
                    onClick={() =>
                      act(() =>
                        call<Schemas['DeviceSecretResponse']>('POST', `/api/devices/${d.id}/rotate-secret`).then((r) =>
                          setShown(`${d.id} ${r.secret}`),
                        ),
                      )
                    }
                  >
                    {t.rotate}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>{t.keys}</h3>
        <form className="inline" onSubmit={createKey} aria-label={t.newKey}>
          <input name="name" placeholder={t.name} aria-label={t.keyName} required />
          <RoleSelect t={t} initial="viewer" />
          <button type="submit">{t.create}</button>
        </form>
        <table>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>{t[k.role]}</td>
                <td>
                  {k.revokedAt ? (
                    t.revoked
                  ) : (
                    <button className="link" onClick={() => act(() => call('DELETE', `/api/keys/${k.id}`))}>
                      {t.revoke}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}

function RoleSelect({ t, initial }: { t: Texts; initial: (typeof ROLES)[number] }) {
  return (
    <select name="role" aria-label={t.role} defaultValue={initial}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {t[r]}
        </option>
      ))}
    </select>
  );
}

/** People and devices alike: POST …/disable or …/enable. */
function EnableToggle(props: {
  t: Texts;
  enabled: boolean;
  path: string;
  act: (work: () => Promise<unknown>) => void;
}) {
  const { t, enabled, path, act } = props;
  return (
    <button className="link" onClick={() => act(() => call('POST', `${path}/${enabled ? 'disable' : 'enable'}`))}>
      {enabled ? t.disable : t.enable}
    </button>
  );
}
