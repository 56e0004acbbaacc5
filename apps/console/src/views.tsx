import { useEffect, useMemo, useRef, useState } from 'react';
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { ChartMetric, SiteSeries, siteChartOption } from './charts';
import { FleetSite, PmLevels, colourOf, project, worstFirst } from './fleet';
import { Texts, ruleName } from './i18n';
import { Schemas, formatTime, formatValue } from './model';

echarts.use([LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

export async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${res.status}`);
  return (await res.json()) as T;
}

/** Every site on its coordinates (no map tiles needed), coloured by its last hour's PM10. */
export function FleetView({ t }: { t: Texts }) {
  const [fleet, setFleet] = useState<{ sites: FleetSite[]; pm10Levels: PmLevels[] } | null>(null);
  useEffect(() => {
    const load = () =>
      get<{ sites: FleetSite[]; pm10Levels: PmLevels[] }>('/api/fleet').then(setFleet, () => undefined);
    void load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
  }, []);
  const [w, h] = [800, 560];
  const at = useMemo(() => (fleet && fleet.sites.length ? project(fleet.sites, w, h) : new Map()), [fleet, w, h]);
  if (!fleet) return null;
  const levels = fleet.pm10Levels[0];
  return (
    <main>
      <h2>{t.fleet}</h2>
      <svg className="map" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={t.fleet}>
        {fleet.sites.map((s) => {
          const p = at.get(s.id);
          return p ? (
            <a key={s.id} href={`#/site/${encodeURIComponent(s.id)}`} data-site-id={s.id}>
              <circle
                cx={p.x}
                cy={p.y}
                r={s.kind === 'background' ? 7 : 6}
                className={`dot ${colourOf(s.pm10OneHour, levels)} ${s.online < s.monitors ? 'offline' : ''} ${s.kind}`}
              >
                <title>{`${s.name} · ${formatValue('pm10', s.pm10OneHour)} · ${t.online} ${s.online}/${s.monitors} · ${t.activeAlerts} ${s.activeWarning + s.activeCritical}`}</title>
              </circle>
              {s.activeWarning + s.activeCritical > 0 && (
                // Named where it matters: a site with active alerts; the others in the list below.
                <text x={p.x + 8} y={p.y - 6} className={`count ${s.activeCritical > 0 ? 'critical' : 'warning'}`}>
                  {s.name} {s.activeWarning + s.activeCritical}
                </text>
              )}
            </a>
          ) : null;
        })}
      </svg>
      <p className="legend">
        <span className="dot-legend good" /> &lt; {levels?.clear.value} <span className="dot-legend watch" />{' '}
        <span className="dot-legend warning" /> ≥ {levels?.raise[0]?.value} <span className="dot-legend critical" /> ≥{' '}
        {levels?.raise[1]?.value} µg/m³ · {t.offlineRing}
      </p>
      <h3>{t.worstFirst}</h3>
      <ol className="fleet-list">
        {worstFirst(fleet.sites).map((s) => (
          <li key={s.id}>
            <a href={`#/site/${encodeURIComponent(s.id)}`}>
              <span className={`dot-legend ${colourOf(s.pm10OneHour, levels)}`} />
              <span className="site">{s.name}</span>
              <span className="district">{s.district}</span>
              <span className="value">
                {t.pm10LastHour} {formatValue('pm10', s.pm10OneHour)}
              </span>
              <span className={s.online < s.monitors ? 'offline' : ''}>
                {t.online} {s.online}/{s.monitors}
              </span>
              {s.activeWarning + s.activeCritical > 0 && (
                <span className={`badge ${s.activeCritical > 0 ? 'critical' : 'warning'}`}>
                  {t.activeAlerts} {s.activeWarning + s.activeCritical}
                </span>
              )}
            </a>
          </li>
        ))}
      </ol>
    </main>
  );
}

const METRICS: ChartMetric[] = ['pm10', 'pm25', 'tsp', 'noise'];

export function Chart({ option }: { option: echarts.EChartsCoreOption }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current, undefined, { renderer: 'svg' });
    chart.setOption(option);
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [option]);
  return <div ref={ref} className="chart" />;
}

/** A site's last 24 hours or 7 days per metric, against the rules' levels and the district background. */
export function SiteView({ t, siteId }: { t: Texts; siteId: string }) {
  const [hours, setHours] = useState<24 | 168>(24);
  const [series, setSeries] = useState<SiteSeries | null>(null);
  useEffect(() => {
    get<SiteSeries>(`/api/sites/${encodeURIComponent(siteId)}/series?hours=${hours}`).then(setSeries, () =>
      setSeries(null),
    );
  }, [siteId, hours]);
  // One option object per metric and data: a new object would rebuild its chart on every render.
  const options = useMemo(
    () =>
      series ? METRICS.map((m) => [m, siteChartOption(series, m, t.background, (id) => ruleName(t, id))] as const) : [],
    [series, t],
  );
  const [alerts, setAlerts] = useState<Schemas['AlertItemResponse'][]>([]);
  useEffect(() => {
    get<Schemas['AlertListResponse']>(
      `/api/alerts?siteId=${encodeURIComponent(siteId)}&state=open,acknowledged,resolved,closed&limit=20`,
    ).then(
      (page) => setAlerts(page.items),
      () => setAlerts([]),
    );
  }, [siteId]);
  return (
    <main>
      <a href="#/fleet">← {t.fleet}</a>
      <h2>
        {t.site} {siteId}
      </h2>
      <div className="tabs">
        <button className={hours === 24 ? 'on' : ''} onClick={() => setHours(24)}>
          24 h
        </button>
        <button className={hours === 168 ? 'on' : ''} onClick={() => setHours(168)}>
          7 d
        </button>
      </div>
      <h3>{t.siteAlerts}</h3>
      <ul className="site-alerts">
        {alerts.map((a) => (
          <li key={a.id}>
            <span className={`badge ${a.severity}`}>{t[a.severity]}</span> {ruleName(t, a.rule, a.ruleName)} ·{' '}
            {t[a.state]} · {formatTime(a.raisedAt)} · {formatValue(a.metric, a.peakValue)}
            {a.closeNote ? ` · ${a.closeNote}` : ''}
          </li>
        ))}
      </ul>
      {options.map(([m, option]) => (
        <section key={m}>
          <h3>{t[m]}</h3>
          <Chart option={option} />
        </section>
      ))}
    </main>
  );
}

type StoredReport = Schemas['ReportListEntryResponse'];

/** The stored bulletins, each as a printable page and a spreadsheet. */
export function ReportsView({ t }: { t: Texts }) {
  const [reports, setReports] = useState<StoredReport[]>([]);
  useEffect(() => {
    get<StoredReport[]>('/api/reports').then(setReports, () => setReports([]));
  }, []);
  const latest = reports.filter((r, i) => reports.findIndex((x) => x.kind === r.kind && x.period === r.period) === i);
  return (
    <main>
      <h2>{t.reports}</h2>
      <ul className="reports">
        {latest.map((r) => (
          <li key={`${r.kind}/${r.period}`}>
            <span className="badge kind">{t[r.kind]}</span> {r.period} · v{r.version} ·{' '}
            {formatTime(new Date(r.computedAt).toISOString())}
            {r.revisedDataAvailable && <span className="badge overdue">{t.revised}</span>}{' '}
            <a href={`/api/reports/${r.kind}/${r.period}?format=html`} target="_blank" rel="noreferrer">
              {t.printable}
            </a>{' '}
            <a href={`/api/reports/${r.kind}/${r.period}?format=xlsx`}>XLSX</a>
          </li>
        ))}
      </ul>
    </main>
  );
}
