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

/**
 * A name inside a robot's markdown: line breaks become spaces and markdown's marks their
 * full-width forms, so a site named "x\n### …[link](…)" is shown as written, not as a heading
 * and a link (issue 22). Full-width, not backslashes: WeCom's and DingTalk's markdown subsets do
 * not all honour `\` escapes, and full-width marks read naturally in Chinese text.
 */
const MARKDOWN_MARKS: Readonly<Record<string, string>> = {
  '\\': '＼',
  '`': '｀',
  '*': '＊',
  _: '＿',
  '[': '［',
  ']': '］',
  '(': '（',
  ')': '）',
  '#': '＃',
  '<': '＜',
  '>': '＞',
  '!': '！',
  '|': '｜',
  '~': '～',
};
export const markdownInline = (text: string): string =>
  text.replace(/[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ').replace(/[\\`*_[\]()#<>!|~]/g, (m) => MARKDOWN_MARKS[m]);

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
  const worstLine = (s: (typeof worstSites)[number], i: number, name: string): string =>
    `${i + 1}. ${name}（${s.siteId}）扣分 ${s.score}`;
  const worstLines = worstSites.map((s, i) => worstLine(s, i, s.siteName));
  const text = [title, ...lines, ...(worstLines.length ? ['排名靠后：', ...worstLines] : []), `完整报告：${url}`].join(
    '\n',
  );
  const markdown = [
    `### ${title}`,
    ...lines.map((l) => `- ${l}`),
    ...(worstLines.length
      ? ['', '**排名靠后**', ...worstSites.map((s, i) => worstLine(s, i, markdownInline(s.siteName)))]
      : []),
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
