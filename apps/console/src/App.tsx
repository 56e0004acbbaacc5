import { ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, Me, api } from './api';
import { Lang, TEXTS, Texts, ruleName, signInError } from './i18n';
import { Alert, AlertEvent, Schemas, applyEvent, formatTime, formatValue, isOverdue, sortWorkList } from './model';
import { AdminView } from './admin';
import { SiteSeries, evidenceChartOption } from './charts';
import { Chart, FleetView, ReportsView, SiteView, get } from './views';

export function App() {
  const [lang, setLang] = useState<Lang>(() => (localStorage.getItem('dustwatch.lang') as Lang | null) ?? 'zh');
  const t = TEXTS[lang];
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api.me().then(setMe, () => setMe(null));
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    localStorage.setItem('dustwatch.lang', lang);
  }, [lang]);
  const toggle = (
    <button className="link" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
      {t.language}
    </button>
  );
  const route = useRoute();
  if (me === undefined) return null;
  if (me === null) return <SignIn t={t} onSignedIn={setMe} toggle={toggle} />;
  return (
    <div className="app">
      <header>
        <h1>{t.title}</h1>
        <span className="who">{me.name}</span>
        {toggle}
        <button className="link" onClick={() => api.signOut().finally(() => setMe(null))}>
          {t.signOut}
        </button>
      </header>
      <nav className="tabs">
        <a href="#/" className={route.view === 'alerts' || route.view === 'alert' ? 'on' : ''}>
          {t.workList}
        </a>
        <a href="#/fleet" className={route.view === 'fleet' || route.view === 'site' ? 'on' : ''}>
          {t.fleet}
        </a>
        <a href="#/reports" className={route.view === 'reports' ? 'on' : ''}>
          {t.reports}
        </a>
        {me.role === 'admin' && (
          <a href="#/admin" className={route.view === 'admin' ? 'on' : ''}>
            {t.adminPage}
          </a>
        )}
      </nav>
      {(route.view === 'alerts' || route.view === 'alert') && (
        <WorkList t={t} me={me} selected={route.view === 'alert' ? route.id : null} />
      )}
      {route.view === 'fleet' && <FleetView t={t} />}
      {route.view === 'site' && <SiteView t={t} siteId={route.id} />}
      {route.view === 'reports' && <ReportsView t={t} />}
      {route.view === 'admin' && me.role === 'admin' && <AdminView t={t} />}
    </div>
  );
}

type Route =
  { view: 'alerts' | 'fleet' | 'reports' | 'admin' } | { view: 'site'; id: string } | { view: 'alert'; id: number };

/** The page from the URL's hash (#/fleet, #/site/CZ-001, #/reports): links and the back button work without a router. */
function useRoute(): Route {
  const parse = (): Route => {
    const [, view, id] = window.location.hash.split('/');
    if (view === 'site' && id) return { view: 'site', id: decodeURIComponent(id) };
    // #/alert/42: every alert has its own address (a reload, a second tab, a link in a WeCom message)
    if (view === 'alert' && /^[1-9][0-9]{0,15}$/.test(id ?? '')) return { view: 'alert', id: Number(id) };
    return { view: view === 'fleet' || view === 'reports' || view === 'admin' ? view : 'alerts' };
  };
  const [route, setRoute] = useState<Route>(parse);
  useEffect(() => {
    const onHash = () => setRoute(parse());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function SignIn({ t, onSignedIn, toggle }: { t: Texts; onSignedIn: (me: Me) => void; toggle: ReactNode }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="signin"
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        api.signIn(name, password).then(onSignedIn, (err: ApiError) => setError(signInError(t, err)));
      }}
    >
      <h1>{t.title}</h1>
      <label>
        {t.name}
        <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        {t.password}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit">{t.signIn}</button>
      {toggle}
    </form>
  );
}

function WorkList({ t, me, selected }: { t: Texts; me: Me; selected: number | null }) {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [live, setLive] = useState(false);
  // An alert the work list does not hold (closed, or opened from a link before the list loaded).
  const [linked, setLinked] = useState<Alert | null>(null);
  const [now, setNow] = useState(Date.now());
  const reload = useCallback(() => api.workList().then((items) => setAlerts(sortWorkList(items))), []);
  useEffect(() => {
    void reload();
    // Same origin: the session cookie authenticates the stream; EventSource reconnects by itself
    // and sends Last-Event-ID, so the service replays what was missed.
    const stream = new EventSource('/api/alerts/stream');
    stream.onopen = () => setLive(true);
    stream.onerror = () => setLive(false);
    const onEvent = (e: MessageEvent<string>) =>
      setAlerts((list) => applyEvent(list, JSON.parse(e.data) as AlertEvent));
    for (const type of ['opened', 'escalated', 'acknowledged', 'resolved', 'closed', 'reminder', 'overdue'])
      stream.addEventListener(type, onEvent as EventListener);
    const clock = setInterval(() => setNow(Date.now()), 30_000);
    return () => {
      stream.close();
      clearInterval(clock);
    };
  }, [reload]);
  useEffect(() => {
    setLinked(null);
    if (selected !== null)
      api.alert(selected).then(
        (a) => setLinked(a as unknown as Alert),
        () => setLinked(null),
      );
  }, [selected]);
  const current = useMemo(
    () => alerts.find((a) => a.id === selected) ?? (linked?.id === selected ? linked : null),
    [alerts, selected, linked],
  );
  const changed = useCallback(() => {
    void reload();
    if (selected !== null)
      api.alert(selected).then(
        (a) => setLinked(a as unknown as Alert),
        () => undefined,
      );
  }, [reload, selected]);
  if (selected !== null && !current) return <main className="detail">{t.loading}</main>;
  if (current)
    return (
      <AlertDetail t={t} me={me} alert={current} onBack={() => (window.location.hash = '#/')} onChanged={changed} />
    );
  return (
    <main>
      <h2>
        {t.workList} <span className={live ? 'live on' : 'live'}>{live ? t.live : t.reconnecting}</span>
      </h2>
      {alerts.length === 0 && <p>{t.empty}</p>}
      <ul className="alerts">
        {alerts.map((a) => (
          <li key={a.id} className={`alert ${a.severity}`} data-alert-id={a.id}>
            <a className="row" href={`#/alert/${a.id}`}>
              <span className={`badge ${a.severity}`}>{t[a.severity]}</span>
              <span className="site">{a.siteName ?? a.siteId}</span>
              <span className="rule">{ruleName(t, a.rule, a.ruleName)}</span>
              <span className="state">{t[a.state]}</span>
              {isOverdue(a, now) && <span className="badge overdue">{t.overdue}</span>}
              <span className="value">{formatValue(a.metric, a.peakValue)}</span>
              <time>{formatTime(a.raisedAt)}</time>
            </a>
          </li>
        ))}
      </ul>
    </main>
  );
}

function AlertDetail(props: { t: Texts; me: Me; alert: Alert; onBack: () => void; onChanged: () => void }) {
  const { t, me, alert, onBack, onChanged } = props;
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [detail, setDetail] = useState<Schemas['AlertDetailResponse'] | null>(null);
  const [series, setSeries] = useState<SiteSeries | null>(null);
  useEffect(() => {
    // The evidence grows while the alert lasts (and reaches InfluxDB a moment after the alert
    // opens): refreshed every 5 s while the page is open.
    const load = () => api.alert(alert.id).then(setDetail, () => undefined);
    void load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [alert.id, alert.state]);
  useEffect(() => {
    get<SiteSeries>(`/api/sites/${encodeURIComponent(alert.siteId)}/series?hours=168`).then(setSeries, () =>
      setSeries(null),
    );
  }, [alert.siteId]);
  const history = detail?.history ?? [];
  const evidence = useMemo(
    () =>
      detail && series && detail.evidenceReadings.points.length > 0
        ? evidenceChartOption(
            detail.evidenceReadings.points as unknown as [string, number][],
            alert,
            series.limits,
            series.backgroundPm10,
            { raise: t.raiseLine, clear: t.clearLine, background: t.background, readings: t.readings },
          )
        : null,
    [detail, series, alert, t],
  );
  const canAct = me.role !== 'viewer';
  const act = (work: () => Promise<unknown>) => {
    setError(null);
    work().then(
      () => {
        setNote('');
        onChanged();
      },
      (err: ApiError) => setError(err.message),
    );
  };
  return (
    <main className="detail">
      <button className="link" onClick={onBack}>
        ← {t.back}
      </button>
      <h2>
        <span className={`badge ${alert.severity}`}>{t[alert.severity]}</span> {alert.siteName ?? alert.siteId} ·{' '}
        {ruleName(t, alert.rule, alert.ruleName)}
      </h2>
      <dl>
        <dt>{t.state}</dt>
        <dd className="state">
          {t[alert.state]} {isOverdue(alert, Date.now()) && <span className="badge overdue">{t.overdue}</span>}
        </dd>
        <dt>{t.district}</dt>
        <dd>{alert.district}</dd>
        <dt>{t.device}</dt>
        <dd>{alert.deviceId}</dd>
        <dt>{t.threshold}</dt>
        <dd>{formatValue(alert.metric, alert.threshold)}</dd>
        <dt>{t.peak}</dt>
        <dd>{formatValue(alert.metric, alert.peakValue)}</dd>
        <dt>{t.opened}</dt>
        <dd>{formatTime(alert.openedAt)}</dd>
        <dt>{t.raised}</dt>
        <dd>{formatTime(alert.raisedAt)}</dd>
      </dl>
      {canAct && alert.state !== 'closed' && (
        <div className="actions">
          <label>
            {t.note}
            <textarea name="note" value={note} onChange={(e) => setNote(e.target.value)} rows={3} />
          </label>
          {alert.state === 'open' && (
            <button onClick={() => act(() => api.acknowledge(alert.id, note.trim() || undefined))}>
              {t.acknowledge}
            </button>
          )}
          {alert.state === 'resolved' && (
            <button
              onClick={
                () =>
                  note.trim() === ''
                    ? setError(t.closeNoteRequired)
                    : act(() => api.close(alert.id, note.trim()).then(onBack)) // closed: back to the work list
              }
            >
              {t.close}
            </button>
          )}
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {evidence && (
        <>
          <h3>{t.evidence}</h3>
          <Chart option={evidence} />
        </>
      )}
      <h3>{t.history}</h3>
      <ol className="history">
        {history.map((h) => (
          <li key={h.id}>
            <time>{formatTime(h.at)}</time> {t.events[h.type] ?? h.type}
            {h.type === 'resolved' && h.note === null && alert.resolvedReason
              ? ` · ${t.resolvedReasons[alert.resolvedReason] ?? alert.resolvedReason}`
              : ''}
            {h.actor ? ` · ${h.actorName ? `${h.actorName}（${h.actor}）` : h.actor}` : ''}
            {h.note ? ` · ${h.note}` : ''}
          </li>
        ))}
      </ol>
    </main>
  );
}
