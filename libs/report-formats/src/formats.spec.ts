import { parseRuleSet } from '@dustwatch/rules';
import {
  ComplianceReport,
  computeReport,
  markdownInline,
  parsePeriod,
  reportSettingsFrom,
  reportSummary,
} from '@dustwatch/reports';
import { BOM, csvField, toCsv } from './csv';
import { escapeHtml, toHtml } from './html';
import { NOT_JUDGED, SITE_COLUMNS, siteRows } from './tables';

const DAY = parsePeriod('daily', '2026-11-27');
const report = computeReport({
  period: DAY,
  monitors: [
    { deviceId: 'A-1', siteId: 'A', siteName: '=HYPERLINK("http://x")', district: '潞州区', kind: 'site' },
    { deviceId: 'B-1', siteId: 'B', siteName: '<script>alert(1)</script>', district: '潞州区', kind: 'site' },
  ],
  hours: [],
  alerts: [],
  settings: reportSettingsFrom(parseRuleSet()),
  previousRanks: new Map(),
  computedAt: DAY.to + 8 * 3_600_000,
});

describe('the bulletin formats', () => {
  it('CSV: a UTF-8 BOM for Excel, RFC 4180 quoting, and formula-looking text defused', () => {
    expect([csvField('a,b'), csvField('say "hi"'), csvField(null), csvField(12.5)]).toEqual([
      '"a,b"',
      '"say ""hi"""',
      '',
      '12.5',
    ]);
    expect([csvField('=1+1'), csvField('+86 138'), csvField('-5'), csvField('@SUM(A1)')]).toEqual([
      "'=1+1",
      "'+86 138",
      "'-5",
      "'@SUM(A1)",
    ]);
    const csv = toCsv(SITE_COLUMNS, siteRows(report));
    expect(csv.startsWith(BOM + '区县,站点编号,站点名称')).toBe(true);
    expect(csv).toContain(`潞州区,A,"'=HYPERLINK(""http://x"")",工地`);
    expect(csv.split('\r\n')).toHaveLength(1 + 2 + 1);
  });

  it('HTML: names from the registry are escaped; the page is Chinese, A4, and says how a two-monitor site is judged', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = toHtml(report, { version: 1, versions: 1, revisedDataAvailable: true });
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('@page { size: A4;');
    expect(html).toContain('<h1>建筑工地扬尘在线监测日报</h1>');
    expect(html).toContain('有修订数据');
    expect(html).toContain('超标与浓度按每小时较差（较高）的设备判定，捕获率、有效率、在线率取各设备的平均值');
  });

  it('the summary names the worst sites, the capture rate and the overdue alerts, with the link', () => {
    const s = reportSummary(report, 'https://dust.example.cn/api/reports/daily/2026-11-27?format=html');
    expect(s.title).toBe('扬尘在线监测日报 2026年11月27日');
    // No data at all: it says so and ranks nobody (issue 18: every site got 90 points and a worst site was named).
    expect(s.worstSites).toEqual([]);
    expect(s.text).toContain('本期无监测数据');
    expect(s.markdown).toContain('[查看完整报告](https://dust.example.cn/api/reports/daily/2026-11-27?format=html)');
    expect(s.text).toContain('数据捕获率 0%');
  });

  it("the robots' markdown shows a site's name as written: no heading, link or emphasis from it (issue 22)", () => {
    const evil = '工地\n### 注入 [点我](http://evil.example)*加粗*';
    expect(markdownInline(evil)).toBe('工地 ＃＃＃ 注入 ［点我］（http://evil.example）＊加粗＊');
    const ranked = {
      ...report,
      ranking: [{ ...report.ranking[0], siteId: 'A', siteName: evil, score: 12 }],
    } as ComplianceReport;
    const s = reportSummary(ranked, 'https://dust.example.cn/r');
    expect(s.markdown.split('\n')).toContain('1. 工地 ＃＃＃ 注入 ［点我］（http://evil.example）＊加粗＊（A）扣分 12');
    expect(s.markdown).not.toContain('](http://evil');
    expect(s.markdown.match(/^#/gm)).toHaveLength(1); // the title's heading only
    expect(s.text).toContain(`1. ${evil}（A）扣分 12`); // plain text is not markdown: kept as is
  });

  it('a site whose district has no background station shows "not judged" for the background form, not 0 (issue 25)', () => {
    expect(report.sites.map((s) => s.background?.available)).toEqual([false, false]);
    const csv = toCsv(SITE_COLUMNS, siteRows(report));
    const header = csv.slice(1).split('\r\n')[0].split(',');
    const column = header.indexOf('背景差值超标时数');
    expect(column).toBeGreaterThan(0);
    for (const line of csv.slice(1).split('\r\n').slice(1, 3)) {
      const cells = line.split(',');
      expect(cells[column]).toBe(NOT_JUDGED); // the name cells hold no comma here
      expect(cells[column + 1]).toBe(NOT_JUDGED);
    }
    expect(toHtml(report, { version: 1, versions: 1, revisedDataAvailable: false })).toContain(NOT_JUDGED);
  });
});
