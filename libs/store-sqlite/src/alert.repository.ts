import type { ReportAlert } from '@dustwatch/reports';
import { Severity } from '@dustwatch/rules';
import {
  ALERT_COLUMNS,
  ALERT_EVENT_COLUMNS as EVENT_COLUMNS,
  ALERT_FROM,
  CLAIMABLE_OUTBOX_ROWS as CLAIMABLE_ROWS,
  AlertEventRow,
  AlertEventType,
  AlertRow,
  ALERT_EVENT_INSERT_COLUMNS,
  ALERT_HISTORY_COLUMNS,
  alertEventValues,
  OUTBOX_VIEW_COLUMNS,
  OutboxViewRow,
  activeBySiteOf,
  historyEntryOf,
  outboxViewOf,
  alertEventViewsOf,
  newAlertEventView,
  alertViewOf,
  AlertEventView,
  AlertFilter,
  AlertHistoryEntry,
  AlertStore,
  AlertTx,
  AlertView,
  DeliveryOutcome,
  NewAlert,
  OutboxRow,
  OutboxState,
  OutboxStore,
  OutboxView,
  Principal,
  RuleStateRow,
} from '@dustwatch/core';
import { Db, QueuedDb } from './sqlite';

/**
 * SQLite access for alerts, their history, the rule engine's state and the notification outbox.
 * All in the main database, so an alert change, its history entry, the rule state and the
 * notifications it causes commit together or not at all. Every value is a bound parameter.
 */
class AlertStatements {
  constructor(private readonly db: Db) {}

  /**
   * Opens an alert. The partial unique index admits one active alert per (subject, rule): should
   * a second raise ever reach here for an active pair, it updates that alert instead (the
   * re-trigger path) and returns its id with `created: false`.
   */
  open(a: NewAlert): { id: number; created: boolean } {
    const existing = this.activeId(a.subject, a.rule);
    const row = this.db
      .prepare(
        `INSERT INTO alerts (subject, rule, rule_name, metric, site_id, district, device_id, state, active, severity, threshold,
        opened_at, raised_at, first_exceedance_at, last_exceedance_at, peak_value, peak_at, last_value, evidence_from, evidence_to, last_notified_at)
      VALUES (@subject, @rule, @ruleName, @metric, @siteId, @district, @deviceId, 'open', 1, @severity, @threshold,
        @at, @raisedAt, @since, @at, @value, @at, @value, @evidenceFrom, @at, @at)
      ON CONFLICT (subject, rule) WHERE active = 1 DO UPDATE SET
        last_exceedance_at = max(last_exceedance_at, excluded.last_exceedance_at), last_value = excluded.last_value, evidence_to = excluded.evidence_to,
        peak_at = CASE WHEN excluded.peak_value > coalesce(peak_value, -1e308) THEN excluded.peak_at ELSE peak_at END,
        peak_value = max(coalesce(peak_value, -1e308), excluded.peak_value)
      RETURNING id`,
      )
      .get(a) as { id: number };
    return { id: row.id, created: existing === undefined };
  }

  activeId(subject: string, rule: string): number | undefined {
    return (
      this.db.prepare('SELECT id FROM alerts WHERE subject = ? AND rule = ? AND active = 1').get(subject, rule) as
        { id: number } | undefined
    )?.id;
  }

  /** A new window over the threshold: moves the last exceedance and, when higher, the peak. */
  exceeded(id: number, at: number, value: number): void {
    this.db
      .prepare(
        `UPDATE alerts SET last_exceedance_at = max(last_exceedance_at, @at), last_value = @value, evidence_to = max(coalesce(evidence_to, 0), @at),
        peak_at = CASE WHEN @value > coalesce(peak_value, -1e308) THEN @at ELSE peak_at END, peak_value = max(coalesce(peak_value, -1e308), @value)
      WHERE id = @id`,
      )
      .run({ id, at, value });
  }

  escalate(id: number, severity: Severity, threshold: number): void {
    this.db.prepare('UPDATE alerts SET severity = ?, threshold = ? WHERE id = ?').run(severity, threshold, id);
  }

  resolve(id: number, at: number, reason: string, value: number | null): void {
    this.db
      .prepare(
        `UPDATE alerts SET state = 'resolved', active = NULL, resolved_at = @at, resolved_reason = @reason,
        last_value = coalesce(@value, last_value), evidence_to = max(coalesce(evidence_to, 0), @at) WHERE id = @id`,
      )
      .run({ id, at, reason, value });
  }

  acknowledge(id: number, by: string, at: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE alerts SET state = 'acknowledged', acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND state = 'open'",
        )
        .run(by, at, id).changes === 1
    );
  }

  /** A resolved alert that was never acknowledged records its closer as acknowledger too. */
  close(id: number, by: string, at: number, note: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE alerts SET state = 'closed', closed_by = @by, closed_at = @at, close_note = @note,
        acknowledged_by = coalesce(acknowledged_by, @by), acknowledged_at = coalesce(acknowledged_at, @at) WHERE id = @id AND state = 'resolved'`,
        )
        .run({ id, by, at, note }).changes === 1
    );
  }

  touchNotified(id: number, at: number): void {
    this.db.prepare('UPDATE alerts SET last_notified_at = ? WHERE id = ?').run(at, id);
  }

  dueOverdue(raisedBefore: number): number[] {
    return this.db
      .prepare(
        "SELECT id FROM alerts WHERE state IN ('open', 'resolved') AND acknowledged_at IS NULL AND overdue_at IS NULL AND raised_at <= ? ORDER BY id",
      )
      .pluck()
      .all(raisedBefore) as number[];
  }

  markOverdue(id: number, at: number): void {
    this.db.prepare('UPDATE alerts SET overdue_at = ? WHERE id = ?').run(at, id);
  }

  /** Open (unacknowledged) alerts last notified before `before`: due a reminder. */
  dueReminders(before: number): number[] {
    return this.db
      .prepare("SELECT id FROM alerts WHERE state = 'open' AND last_notified_at <= ? ORDER BY id")
      .pluck()
      .all(before) as number[];
  }

  get(id: number): AlertView | undefined {
    const row = this.db.prepare(`SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} WHERE a.id = ?`).get(id) as
      AlertRow | undefined;
    return row && alertViewOf(row);
  }

  list(f: AlertFilter): { total: number; items: AlertView[] } {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: f.limit, offset: f.offset };
    if (f.state?.length) {
      where.push(`a.state IN (${f.state.map((_, i) => `@state${i}`).join(', ')})`);
      f.state.forEach((s, i) => (params[`state${i}`] = s));
    }
    const simple: [keyof AlertFilter, string][] = [
      ['siteId', 'a.site_id = @siteId'],
      ['district', 'a.district = @district'],
      ['rule', 'a.rule = @rule'],
      ['severity', 'a.severity = @severity'],
      ['from', 'a.opened_at >= @from'],
      ['to', 'a.opened_at < @to'],
    ];
    for (const [key, clause] of simple) {
      if (f[key] === undefined) continue;
      where.push(clause);
      params[key] = f[key];
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM alerts a ${whereSql}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} ${whereSql} ORDER BY a.id DESC LIMIT @limit OFFSET @offset`)
      .all(params) as AlertRow[];
    return { total, items: rows.map(alertViewOf) };
  }

  /** Appends a history entry with the alert as it now stands; returns the event. */
  addEvent(
    alertId: number,
    type: AlertEventType,
    at: number,
    by: Principal | null,
    value: number | null,
    note: string | null,
  ): AlertEventView {
    const alert = this.get(alertId)!;
    const info = this.db
      .prepare(`INSERT INTO alert_events (${ALERT_EVENT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...alertEventValues(alert, type, at, by, value, note));
    return newAlertEventView(Number(info.lastInsertRowid), alert, type, at, by, value, note);
  }

  history(alertId: number): AlertHistoryEntry[] {
    return (
      this.db
        .prepare(`SELECT ${ALERT_HISTORY_COLUMNS} FROM alert_events WHERE alert_id = ? ORDER BY id`)
        .all(alertId) as (Omit<AlertEventView, 'alert' | 'at'> & { at: number })[]
    ).map(historyEntryOf);
  }

  /** Events after `afterId`, oldest first: the SSE replay for a client that reconnects with Last-Event-ID. */
  eventsAfter(afterId: number, limit: number): AlertEventView[] {
    return alertEventViewsOf(
      this.db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id > ? ORDER BY id LIMIT ?`)
        .all(afterId, limit) as AlertEventRow[],
    );
  }

  lastEventId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM alert_events').get() as { id: number }).id;
  }

  // --- rule engine state ---

  loadRuleStates(): RuleStateRow[] {
    return this.db
      .prepare('SELECT subject, rule AS ruleId, phase, since, severity FROM rule_state')
      .all() as RuleStateRow[];
  }

  saveRuleState(subject: string, ruleId: string, state: Omit<RuleStateRow, 'subject' | 'ruleId'> | null): void {
    if (state === null) this.db.prepare('DELETE FROM rule_state WHERE subject = ? AND rule = ?').run(subject, ruleId);
    else
      this.db
        .prepare(
          `INSERT INTO rule_state (subject, rule, phase, since, severity) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(subject, rule) DO UPDATE SET phase = excluded.phase, since = excluded.since, severity = excluded.severity`,
        )
        .run(subject, ruleId, state.phase, state.since, state.severity);
  }

  enqueue(eventId: number, channels: readonly string[], deliveryIdOf: (channel: string) => string, now: number): void {
    const insert = this.db.prepare(
      "INSERT INTO outbox (delivery_id, event_id, channel, state, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
    );
    for (const channel of channels) insert.run(deliveryIdOf(channel), eventId, channel, now, now);
  }

  /** Active alerts per site and severity. */
  activeBySite(): Map<string, { warning: number; critical: number }> {
    return activeBySiteOf(
      this.db
        .prepare(
          'SELECT site_id AS "siteId", severity, count(*) AS n FROM alerts WHERE active = 1 GROUP BY site_id, severity',
        )
        .all() as { siteId: string; severity: 'warning' | 'critical'; n: number }[],
    );
  }

  activeCounts(): { rule: string; severity: string; n: number }[] {
    return this.db
      .prepare('SELECT rule, severity, count(*) AS n FROM alerts WHERE active = 1 GROUP BY rule, severity')
      .all() as { rule: string; severity: string; n: number }[];
  }
}

/**
 * The alert ledger's store on the main database. A unit of work is BEGIN IMMEDIATE … COMMIT on
 * the connection, taken through the write queue so no other component's write can join it; its
 * statements are synchronous (better-sqlite3) behind the port's promises.
 */
export class AlertRepository implements AlertStore {
  private readonly s: AlertStatements;
  private readonly tx: AlertTx;

  constructor(private readonly main: QueuedDb) {
    const s = (this.s = new AlertStatements(main.db));
    this.tx = {
      open: async (a) => s.open(a),
      activeId: async (subject, rule) => s.activeId(subject, rule),
      exceeded: async (id, at, value) => s.exceeded(id, at, value),
      escalate: async (id, severity, threshold) => s.escalate(id, severity, threshold),
      resolve: async (id, at, reason, value) => s.resolve(id, at, reason, value),
      acknowledge: async (id, by, at) => s.acknowledge(id, by, at),
      close: async (id, by, at, note) => s.close(id, by, at, note),
      touchNotified: async (id, at) => s.touchNotified(id, at),
      dueReminders: async (before) => s.dueReminders(before),
      dueOverdue: async (raisedBefore) => s.dueOverdue(raisedBefore),
      markOverdue: async (id, at) => s.markOverdue(id, at),
      get: async (id) => s.get(id),
      addEvent: async (alertId, type, at, actor, value, note) => s.addEvent(alertId, type, at, actor, value, note),
      saveRuleState: async (subject, ruleId, state) => s.saveRuleState(subject, ruleId, state),
      enqueue: async (eventId, channels, deliveryIdOf, now) => s.enqueue(eventId, channels, deliveryIdOf, now),
    };
  }

  transaction<T>(work: (tx: AlertTx) => Promise<T>): Promise<T> {
    const db = this.main.db;
    return this.main.writes.run(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.tx);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async get(id: number): Promise<AlertView | undefined> {
    return this.s.get(id);
  }

  async list(f: AlertFilter): Promise<{ total: number; items: AlertView[] }> {
    return this.s.list(f);
  }

  async history(alertId: number): Promise<AlertHistoryEntry[]> {
    return this.s.history(alertId);
  }

  async eventsAfter(afterId: number, limit: number): Promise<AlertEventView[]> {
    return this.s.eventsAfter(afterId, limit);
  }

  async lastEventId(): Promise<number> {
    return this.s.lastEventId();
  }

  async loadRuleStates(): Promise<RuleStateRow[]> {
    return this.s.loadRuleStates();
  }

  async activeBySite(): Promise<Map<string, { warning: number; critical: number }>> {
    return this.s.activeBySite();
  }

  async activeCounts(): Promise<{ rule: string; severity: string; n: number }[]> {
    return this.s.activeCounts();
  }

  async forReport(from: number, to: number): Promise<ReportAlert[]> {
    return this.main.db
      .prepare(
        `SELECT id, site_id AS siteId, rule, severity, opened_at AS openedAt, raised_at AS raisedAt, acknowledged_at AS acknowledgedAt,
                resolved_at AS resolvedAt, closed_at AS closedAt
           FROM alerts WHERE opened_at < ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY id`,
      )
      .all(to, from) as ReportAlert[];
  }
}

/**
 * The notification outbox in the main database: rows are enqueued inside the alert ledger's
 * transaction (same connection), delivered by whoever claims them.
 */
export class OutboxRepository implements OutboxStore {
  private readonly claimStatement;
  private readonly db: Db;

  constructor(private readonly main: QueuedDb) {
    const db = (this.db = main.db);
    // One statement takes the lease, so two dispatchers cannot both take a row. A row is due, not
    // leased to another owner, and below its alert's first blocker on this channel: the first
    // pending row still waiting for its retry time or leased to someone else (events of one
    // alert in order). The blockers are found in one pass, not per row: with a per-row NOT EXISTS
    // a backlog of 6,000 rows took 0.5 s a claim (bench:stores).
    this.claimStatement = db.prepare(`UPDATE outbox SET claimed_by = @owner, claimed_until = @until WHERE id IN (
        ${CLAIMABLE_ROWS} LIMIT @limit)
      RETURNING id`);
  }

  async claim(channel: string, limit: number, owner: string, now: number, leaseMs: number): Promise<OutboxRow[]> {
    const claimed = await this.main.writes.run(
      () => this.claimStatement.all({ channel, limit, owner, now, until: now + leaseMs }) as { id: number }[],
    );
    const ids = claimed.map((r) => r.id);
    if (ids.length === 0) return [];
    return this.db
      .prepare(
        `SELECT o.id, o.delivery_id AS deliveryId, o.event_id AS eventId, e.alert_id AS alertId, o.channel, o.attempts, o.next_attempt_at AS nextAttemptAt
      FROM outbox o JOIN alert_events e ON e.id = o.event_id WHERE o.id IN (SELECT value FROM json_each(?)) ORDER BY o.id`,
      )
      .all(JSON.stringify(ids)) as OutboxRow[];
  }

  /** Events by id (a claimed batch), keyed by id. */
  async events(ids: readonly number[]): Promise<Map<number, AlertEventView>> {
    if (ids.length === 0) return new Map();
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM alert_events WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as AlertEventRow[];
    return new Map(alertEventViewsOf(rows).map((e) => [e.id, e]));
  }

  /**
   * Records a round of delivery outcomes in one transaction (one fsync, not one per delivery)
   * and releases their leases. Should the process die before it, those deliveries are made
   * again once the lease runs out: at least once, with the same delivery id, which receivers
   * use to drop the repeat.
   */
  async recordOutcomes(outcomes: readonly DeliveryOutcome[]): Promise<void> {
    return this.main.writes.run(async () => {
      if (outcomes.length === 0) return;
      const delivered = this.db.prepare(
        "UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = ?, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
      );
      const failed = this.db.prepare(
        'UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ?',
      );
      this.db.transaction(() => {
        for (const o of outcomes) {
          if (o.ok) delivered.run(o.at, o.attempts, o.id);
          else failed.run(o.dead ? 'dead' : 'pending', o.attempts, o.nextAttemptAt, o.error.slice(0, 1000), o.id);
        }
      })();
    });
  }

  /** Puts a dead delivery back in line (after the receiver was fixed). */
  async retry(id: number, now: number): Promise<boolean> {
    return this.main.writes.run(async () => {
      return (
        this.db
          .prepare(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL WHERE id = ? AND state = 'dead'",
          )
          .run(now, id).changes === 1
      );
    });
  }

  async list(state: OutboxState | undefined, limit: number): Promise<OutboxView[]> {
    return (
      this.db
        .prepare(
          `SELECT ${OUTBOX_VIEW_COLUMNS} FROM outbox o JOIN alert_events e ON e.id = o.event_id
            WHERE (@state IS NULL OR o.state = @state) ORDER BY o.id DESC LIMIT @limit`,
        )
        .all({ state: state ?? null, limit }) as OutboxViewRow[]
    ).map(outboxViewOf);
  }

  /** Delivered rows older than `before` are history nobody needs: the events stay in alert_events. */
  async pruneDelivered(before: number): Promise<number> {
    return this.main.writes.run(async () => {
      return this.db.prepare("DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < ?").run(before).changes;
    });
  }

  async counts(): Promise<Record<string, number>> {
    const rows = this.db
      .prepare("SELECT channel || ':' || state AS k, count(*) AS n FROM outbox GROUP BY channel, state")
      .all() as { k: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }
}
