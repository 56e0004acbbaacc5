import { ComplianceReport } from './compute';

export interface ReportSummary {
  readonly kind: ComplianceReport['kind'];
  readonly period: string;
  readonly title: string;
  /** The full report (printable page). */
  readonly url: string;
  /** Plain text for chat robots' text messages and logs. */
  readonly text: string;
  /** Markdown for WeCom / DingTalk group robots. */
  readonly markdown: string;
  readonly capturePct: number;
  readonly overdue: number;
  readonly worstSites: readonly { readonly siteId: string; readonly siteName: string; readonly score: number }[];
}

const KIND_ZH = { daily: '日报', weekly: '周报', monthly: '月报' } as const;

/** The summary the schedule sends: capture rate, exceedances, overdue alerts and the worst sites, with a link. */
export function reportSummary(report: ComplianceReport, url: string, worst = 5): ReportSummary {
  const title = `扬尘在线监测${KIND_ZH[report.kind]} ${report.title}`;
  const c = report.city;
  const worstSites = [...report.ranking]
    .reverse()
    .filter((r) => r.score > 0)
    .slice(0, worst)
    .map((r) => ({ siteId: r.siteId, siteName: r.siteName, score: r.score }));
  const lines = [
    ...(report.noData ? ['本期无监测数据：没有任何设备上报，不排名'] : []),
    `站点 ${c.sites} 个，监测设备 ${c.monitors} 台；数据捕获率 ${c.capturePct}%，有效率 ${c.validityPct}%，在线率 ${c.onlinePct}%`,
    `小时超标 ${c.exceedanceHours} 小时，背景差值不达标 ${c.nonCompliantDays} 站·日`,
    `告警 ${c.handling.opened} 条，按时确认 ${c.handling.acknowledgedInTime} 条，超时 ${c.handling.overdue} 条，期末未关闭 ${c.handling.openAtEnd} 条`,
  ];
  const worstLines = worstSites.map((s, i) => `${i + 1}. ${s.siteName}（${s.siteId}）扣分 ${s.score}`);
  const text = [title, ...lines, ...(worstLines.length ? ['排名靠后：', ...worstLines] : []), `完整报告：${url}`].join(
    '\n',
  );
  const markdown = [
    `### ${title}`,
    ...lines.map((l) => `- ${l}`),
    ...(worstLines.length ? ['', '**排名靠后**', ...worstLines] : []),
    '',
    `[查看完整报告](${url})`,
  ].join('\n');
  return {
    kind: report.kind,
    period: report.period,
    title,
    url,
    text,
    markdown,
    capturePct: c.capturePct,
    overdue: c.handling.overdue,
    worstSites,
  };
}
