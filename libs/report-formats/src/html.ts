import * as echarts from 'echarts';
import type { ComplianceReport } from '@dustwatch/reports';
import { AREA_COLUMNS, Cell, Column, RANK_COLUMNS, SITE_COLUMNS, siteRows } from './tables';

/**
 * What fits an A4 page: the printed tables leave out counts and secondary figures (the XLSX and
 * CSV have every column).
 */
const PRINTED_SITE_COLUMNS = SITE_COLUMNS.filter(
  (c) =>
    ![
      '区县',
      '站点编号',
      '设备数',
      '应收数据',
      '实收数据',
      '有效数据',
      'PM10有效天数',
      'PM2.5日均超标天数',
      'TSP日均超标天数',
      '背景差值超标时数',
      '按时确认',
      '期末未关闭',
      '关闭用时中位数(分钟)',
    ].includes(c.header),
);
const PRINTED_AREA_COLUMNS = AREA_COLUMNS.filter(
  (c) => !['确认用时P90(分钟)', '关闭用时P90(分钟)', '已关闭', 'PM2.5均值(µg/m³)'].includes(c.header),
);

/** Text into HTML: site names and notes come from people, so everything shown is escaped. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const cell = (v: Cell, decimals?: number): string =>
  v === null ? '—' : typeof v === 'number' ? (decimals !== undefined ? v.toFixed(decimals) : String(v)) : escapeHtml(v);

function table<T>(columns: readonly Column<T>[], rows: readonly T[], className = ''): string {
  const head = columns.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${columns.map((c) => `<td${typeof c.value(r) === 'number' ? ' class="n"' : ''}>${cell(c.value(r), c.decimals)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A small chart as inline SVG, rendered on the server by ECharts (no browser script: the page prints as it is). */
function chart(option: echarts.EChartsCoreOption, width = 680, height = 220): string {
  const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  c.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif', fontSize: 11 }, ...option });
  const svg = c.renderToSVGString();
  c.dispose();
  return svg;
}

function charts(report: ComplianceReport): string {
  const out: string[] = [];
  if (report.districts.length > 0)
    out.push(
      chart({
        title: { text: '各区县数据捕获率与小时超标时数', left: 'center', top: 0, textStyle: { fontSize: 12 } },
        legend: { top: 24, data: ['捕获率(%)', '小时超标时数'] },
        grid: { top: 64, bottom: 30, left: 50, right: 50 },
        xAxis: { type: 'category', data: report.districts.map((d) => d.district) },
        yAxis: [
          { type: 'value', max: 100, name: '%' },
          { type: 'value', name: '小时' },
        ],
        series: [
          { name: '捕获率(%)', type: 'bar', data: report.districts.map((d) => d.capturePct) },
          { name: '小时超标时数', type: 'bar', yAxisIndex: 1, data: report.districts.map((d) => d.exceedanceHours) },
        ],
      }),
    );
  const worst = [...report.ranking]
    .reverse()
    .filter((r) => r.score > 0)
    .slice(0, 10)
    .reverse();
  if (worst.length > 0)
    out.push(
      chart(
        {
          title: { text: '扣分最多的工地', left: 'center', textStyle: { fontSize: 12 } },
          grid: { top: 30, bottom: 20, left: 150, right: 30 },
          xAxis: { type: 'value' },
          yAxis: { type: 'category', data: worst.map((r) => r.siteName) },
          series: [{ type: 'bar', data: worst.map((r) => r.score), label: { show: true, position: 'right' } }],
        },
        680,
        Math.max(120, 40 + worst.length * 20),
      ),
    );
  if (report.days.length > 1) {
    const cityDaily = report.days.map((_, i) => {
      const values = report.sites
        .filter((s) => s.kind === 'site')
        .map((s) => s.levels.pm10.dailyMeans[i])
        .filter((v): v is number => v !== null);
      return values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10 : null;
    });
    out.push(
      chart({
        title: { text: '工地PM10日均值（各工地平均）与二级标准150 µg/m³', left: 'center', textStyle: { fontSize: 12 } },
        grid: { top: 35, bottom: 30, left: 50, right: 40 },
        xAxis: { type: 'category', data: report.days.map((d) => d.slice(5)) },
        yAxis: { type: 'value', name: 'µg/m³' },
        series: [
          {
            type: 'line',
            data: cityDaily,
            markLine: {
              symbol: 'none',
              data: [{ yAxis: report.settings.dailyLimits.pm10 }],
              lineStyle: { color: '#c00' },
            },
          },
        ],
      }),
    );
  }
  return out.map((svg) => `<figure>${svg}</figure>`).join('\n');
}

const STYLE = `
@page { size: A4; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
  font-size: 10pt; color: #111; margin: 0 auto; max-width: 190mm; padding: 8px; }
h1 { font-size: 16pt; text-align: center; margin: 4px 0; }
h2 { font-size: 12pt; border-bottom: 2px solid #333; padding-bottom: 2px; margin: 14px 0 6px; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 10px 0 4px; break-after: avoid; }
.meta { text-align: center; color: #444; font-size: 9pt; }
.revised { border: 2px solid #c60; background: #fff4e5; padding: 6px; margin: 8px 0; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin: 8px 0; }
.kpi { border: 1px solid #999; padding: 4px 6px; } .kpi b { display: block; font-size: 13pt; }
table { border-collapse: collapse; width: 100%; font-size: 7.5pt; margin: 4px 0 8px; }
th, td { border: 1px solid #888; padding: 2px 3px; } th { background: #eee; } td.n { text-align: right; }
thead { display: table-header-group; } tr { break-inside: avoid; }
figure { margin: 6px 0; text-align: center; break-inside: avoid; } svg { max-width: 100%; height: auto; }
.notes { font-size: 8.5pt; color: #333; } .notes li { margin: 2px 0; }
.wide { overflow-x: auto; }
@media screen and (max-width: 700px) { .kpis { grid-template-columns: repeat(2, 1fr); } }
`;

export interface HtmlMeta {
  readonly version: number;
  readonly versions: number;
  readonly revisedDataAvailable: boolean;
  readonly district?: string;
}

const SHANGHAI = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', dateStyle: 'long', timeStyle: 'short' });

/** An instant as a reader in Changzhi says it: 2026年12月2日 08:00. */
export const beijingTime = (t: number): string => SHANGHAI.format(new Date(t));

/** The printable bulletin, in Chinese, laid out for A4 (a browser prints it to PDF as it is). */
export function toHtml(report: ComplianceReport, meta: HtmlMeta): string {
  const c = report.city;
  const scope = meta.district ? `${escapeHtml(meta.district)}` : '全市';
  const kinds = { daily: '日报', weekly: '周报', monthly: '月报' } as const;
  const title = `建筑工地扬尘在线监测${kinds[report.kind]}`;
  const kpi = (label: string, value: string): string => `<div class="kpi">${label}<b>${value}</b></div>`;
  const pct = (x: number): string => `${x.toFixed(1)}%`;
  const rows = siteRows(report);
  const districtSections = [...new Set(rows.map((s) => s.district))]
    .sort()
    .map(
      (d) =>
        `<h3>${escapeHtml(d)}</h3><div class="wide">${table(
          PRINTED_SITE_COLUMNS,
          rows.filter((s) => s.district === d),
        )}</div>`,
    )
    .join('\n');
  const bg = report.settings.background;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${title} ${report.title}`)}</title><style>${STYLE}</style></head>
<body>
<h1>${title}</h1>
<p class="meta">${escapeHtml(report.title)} · 范围：${scope} · 第 ${meta.version} 版（共 ${meta.versions} 版） · 生成于 ${escapeHtml(SHANGHAI.format(new Date(report.computedAt)))}（北京时间）</p>
${meta.revisedDataAvailable ? '<p class="revised"><b>有修订数据：</b>本报告生成后又收到了本期的补传数据，管理员重新计算后数字会变化。</p>' : ''}
<h2>一、全市概况</h2>
<div class="kpis">
${kpi('工地 / 设备', `${c.sites} / ${c.monitors}`)}${kpi('数据捕获率', pct(c.capturePct))}${kpi('数据有效率', pct(c.validityPct))}${kpi('设备在线率', pct(c.onlinePct))}
${kpi('PM10均值', c.pm10Mean === null ? '—' : `${c.pm10Mean} µg/m³`)}${kpi('小时超标时数', String(c.exceedanceHours))}${kpi('背景差值不达标', `${c.nonCompliantDays} 站·日`)}${kpi('超时未确认告警', `${c.handling.overdue} / ${c.handling.opened}`)}
</div>
${charts(report)}
<h2>二、区县对比</h2>
<div class="wide">${table(PRINTED_AREA_COLUMNS, [report.city, ...report.districts])}</div>
<h2>三、工地排名</h2>
${report.noData ? '<p class="revised"><b>本期无监测数据：</b>没有任何设备上报数据，不排名、不评最差工地。</p>' : `<div class="wide">${table(RANK_COLUMNS, report.ranking)}</div>`}
<h2>四、各区县工地明细</h2>
${districtSections}
<h2>五、说明</h2>
<ul class="notes">
<li>时间均为北京时间（UTC+8）；小时值按小时结束时刻命名（16时值为15:00–16:00）。</li>
<li>应收数据按每 ${report.settings.capture.expectedIntervalSeconds} 秒一条计；有效小时须有应收数据的 ${Math.round(report.settings.capture.validHourShare * 100)}%，有效日须有 ${report.settings.capture.validHoursPerDay} 个有效小时；只有标记为 N 的数据计入均值。</li>
<li>日均值对照 GB 3095-2012 二级标准：PM10 ${report.settings.dailyLimits.pm10}、PM2.5 ${report.settings.dailyLimits.pm25}、TSP ${report.settings.dailyLimits.tsp} µg/m³；噪声昼间（${report.settings.noise.dayFromHour}:00–${report.settings.noise.dayToHour}:00）${report.settings.noise.day} dB(A)、夜间 ${report.settings.noise.night} dB(A)（GB 12523-2011），为能量平均值。</li>
<li>小时超标：有效小时均值达到各小时规则的报警值（${report.settings.hourlyRules.map((r) => `${escapeHtml(r.rule)} ${r.levels.map((l) => `${l.op}${l.value}`).join('/')}`).join('；')}）。</li>
<li>${bg ? `背景差值（DB13/2934-2019 形式）：工地PM10小时均值减同区县背景站小时均值 ${escapeHtml(bg.level.op)} ${bg.level.value} µg/m³ 为一次超标，一天超过 ${bg.allowedPerDay} 次为不达标日。` : '未配置背景差值规则。'}</li>
<li>打印版表格略去部分计数列；XLSX 与 CSV 含全部列。</li>
<li>一个工地有两台设备时：超标与浓度按每小时较差（较高）的设备判定，捕获率、有效率、在线率取各设备的平均值。</li>
<li>告警须在 ${report.settings.responseDeadlineMinutes} 分钟内确认，否则计为超时；用时为中位数与第90百分位（最近秩法）。</li>
<li>扣分 = 小时超标时数 + 10 × 背景差值不达标天数 + 5 × 超时告警数 + 捕获率低于90%的百分点数；扣分越少排名越前。详见 docs/reports.md。</li>
</ul>
</body></html>`;
}
