import { PoolClient } from 'pg';
import type { ReportAlert } from '@dustwatch/reports';
import {
  ALERT_COLUMNS,
  ALERT_EVENT_COLUMNS,
  ALERT_FROM,
  CLAIMABLE_OUTBOX_ROWS,
  AlertEventRow,
  AlertEventView,
  AlertFilter,
  AlertHistoryEntry,
  AlertRow,
  AlertStore,
  AlertTx,
  AlertView,
  DeliveryOutcome,
  OutboxRow,
  OutboxState,
  OutboxStore,
  OutboxView,
  RuleStateRow,
  WriteQueue,
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
} from '@dustwatch/core';
import { PgDatabase, Queryable } from './pg';

async function getAlert(q: Queryable, id: number): Promise<AlertView | undefined> {
  const row = (await q.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} WHERE a.id = $1`, [id])).rows[0];
  return row && alertViewOf(row);
}

async function activeId(q: Queryable, subject: string, rule: string): Promise<number | undefined> {
  return (
    await q.query<{ id: number }>('SELECT id FROM alerts WHERE subject = $1 AND rule = $2 AND active = 1', [
      subject,
      rule,
    ])
  ).rows[0]?.id;
}

const ALERT_EVENTS_LOCK = 0x616c7274; // "alrt"

/** The ledger's statements on the transaction's connection (the same SQL as SQLite's, in PostgreSQL's dialect). */
function unitOfWork(c: PoolClient): AlertTx {
  const changed = async (sql: string, params: unknown[]): Promise<boolean> =>
    (await c.query(sql, params)).rowCount === 1;
  return {
    /**
     * The partial unique index admits one active alert per (subject, rule), also between two
     * instances raising it at once: the second insert becomes the update of the first alert,
     * and `xmax = 0` tells which happened, in the same statement.
     */
    open: async (a) => {
      const { rows } = await c.query<{ id: number; created: boolean }>(
        `INSERT INTO alerts (subject, rule, rule_name, metric, site_id, district, device_id, state, active, severity, threshold,
           opened_at, raised_at, first_exceedance_at, last_exceedance_at, peak_value, peak_at, last_value, evidence_from, evidence_to, last_notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', 1, $8, $9, $10, $11, $12, $10, $13, $10, $13, $14, $10, $10)
         ON CONFLICT (subject, rule) WHERE active = 1 DO UPDATE SET
           last_exceedance_at = greatest(alerts.last_exceedance_at, excluded.last_exceedance_at), last_value = excluded.last_value,
           evidence_to = excluded.evidence_to,
           peak_at = CASE WHEN excluded.peak_value > coalesce(alerts.peak_value, '-Infinity') THEN excluded.peak_at ELSE alerts.peak_at END,
           peak_value = greatest(alerts.peak_value, excluded.peak_value)
         RETURNING id, (xmax = 0) AS created`,
        [
          a.subject,
          a.rule,
          a.ruleName,
          a.metric,
          a.siteId,
          a.district,
          a.deviceId,
          a.severity,
          a.threshold,
          a.at,
          a.raisedAt,
          a.since,
          a.value,
          a.evidenceFrom,
        ],
      );
      return rows[0];
    },
    activeId: (subject, rule) => activeId(c, subject, rule),
    exceeded: async (id, at, value) => {
      await c.query(
        `UPDATE alerts SET last_exceedance_at = greatest(last_exceedance_at, $2), last_value = $3, evidence_to = greatest(evidence_to, $2),
           peak_at = CASE WHEN $3 > coalesce(peak_value, '-Infinity') THEN $2 ELSE peak_at END, peak_value = greatest(peak_value, $3)
         WHERE id = $1`,
        [id, at, value],
      );
    },
    escalate: async (id, severity, threshold) => {
      await c.query('UPDATE alerts SET severity = $1, threshold = $2 WHERE id = $3', [severity, threshold, id]);
    },
    resolve: async (id, at, reason, value) => {
      await c.query(
        `UPDATE alerts SET state = 'resolved', active = NULL, resolved_at = $2, resolved_reason = $3,
           last_value = coalesce($4, last_value), evidence_to = greatest(evidence_to, $2) WHERE id = $1`,
        [id, at, reason, value],
      );
    },
    acknowledge: (id, by, at) =>
      changed(
        "UPDATE alerts SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2 WHERE id = $3 AND state = 'open'",
        [by, at, id],
      ),
    close: (id, by, at, note) =>
      changed(
        `UPDATE alerts SET state = 'closed', closed_by = $2, closed_at = $3, close_note = $4,
           acknowledged_by = coalesce(acknowledged_by, $2), acknowledged_at = coalesce(acknowledged_at, $3) WHERE id = $1 AND state = 'resolved'`,
        [id, by, at, note],
      ),
    touchNotified: async (id, at) => {
      await c.query('UPDATE alerts SET last_notified_at = $1 WHERE id = $2', [at, id]);
    },
    // FOR UPDATE SKIP LOCKED: an alert another instance is escalating or reminding right now is
    // its to handle; once that commits, the marker it wrote keeps the alert out of the next query.
    dueOverdue: async (raisedBefore) =>
      (
        await c.query<{ id: number }>(
          `SELECT id FROM alerts WHERE state IN ('open', 'resolved') AND acknowledged_at IS NULL AND overdue_at IS NULL AND raised_at <= $1
           ORDER BY id FOR UPDATE SKIP LOCKED`,
          [raisedBefore],
        )
      ).rows.map((r) => r.id),
    markOverdue: async (id, at) => {
      await c.query('UPDATE alerts SET overdue_at = $1 WHERE id = $2', [at, id]);
    },
    dueReminders: async (before) =>
      (
        await c.query<{ id: number }>(
          "SELECT id FROM alerts WHERE state = 'open' AND last_notified_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED",
          [before],
        )
      ).rows.map((r) => r.id),
    get: (id) => getAlert(c, id),
    addEvent: async (alertId, type, at, by, value, note) => {
      const alert = (await getAlert(c, alertId))!;
      const { rows } = await c.query<{ id: number }>(
        `INSERT INTO alert_events (${ALERT_EVENT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        alertEventValues(alert, type, at, by, value, note),
      );
      return newAlertEventView(rows[0].id, alert, type, at, by, value, note);
    },
    saveRuleState: async (subject, ruleId, state) => {
      if (state === null) await c.query('DELETE FROM rule_state WHERE subject = $1 AND rule = $2', [subject, ruleId]);
      else
        await c.query(
          `INSERT INTO rule_state (subject, rule, phase, since, severity) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (subject, rule) DO UPDATE SET phase = excluded.phase, since = excluded.since, severity = excluded.severity`,
          [subject, ruleId, state.phase, state.since, state.severity],
        );
    },
    enqueue: async (eventId, channels, deliveryIdOf, now) => {
      if (channels.length === 0) return;
      await c.query(
        `INSERT INTO outbox (delivery_id, event_id, channel, state, next_attempt_at, created_at)
         SELECT d, $2, ch, 'pending', $3, $3 FROM unnest($1::text[], $4::text[]) WITH ORDINALITY AS t(d, ch, n) ORDER BY n`,
        [channels.map(deliveryIdOf), eventId, now, channels],
      );
    },
  };
}

/**
 * The alert ledger's store on PostgreSQL. A unit of work is BEGIN … COMMIT on one pooled
 * connection. This instance's units run one at a time, in the order asked — as on SQLite — so
 * a rule commit never overtakes the one before it; between instances, row locks and the
 * one-active-alert index keep the invariants.
 */
export class PgAlertStore implements AlertStore {
  private readonly units = new WriteQueue();

  constructor(private readonly db: PgDatabase) {}

  /**
   * Units of work of every instance take one transaction lock first, so alert events become
   * visible in id order: a reader that saw event n (an SSE stream, another instance's relay)
   * never later sees a smaller id appear (identities are taken at insert, not at commit). Taken
   * first, before any row lock, so it cannot deadlock with one; alert changes are rare enough
   * that running them one at a time across instances costs nothing measurable.
   */
  transaction<T>(work: (tx: AlertTx) => Promise<T>): Promise<T> {
    return this.units.run(() =>
      this.db.transaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [ALERT_EVENTS_LOCK]);
        return work(unitOfWork(client));
      }),
    );
  }

  get(id: number): Promise<AlertView | undefined> {
    return getAlert(this.db.pool, id);
  }

  async list(f: AlertFilter): Promise<{ total: number; items: AlertView[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown): string => `$${params.push(value)}`;
    if (f.state?.length) where.push(`a.state = ANY(${bind(f.state)}::text[])`);
    const simple: [keyof AlertFilter, string][] = [
      ['siteId', 'a.site_id ='],
      ['district', 'a.district ='],
      ['rule', 'a.rule ='],
      ['severity', 'a.severity ='],
      ['from', 'a.opened_at >='],
      ['to', 'a.opened_at <'],
    ];
    for (const [key, clause] of simple) if (f[key] !== undefined) where.push(`${clause} ${bind(f[key])}`);
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (await this.db.one<{ n: number }>(`SELECT count(*) AS n FROM alerts a ${whereSql}`, params))!.n;
    const rows = await this.db.rows<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM ${ALERT_FROM} ${whereSql} ORDER BY a.id DESC LIMIT ${bind(f.limit)} OFFSET ${bind(f.offset)}`,
      params,
    );
    return { total, items: rows.map(alertViewOf) };
  }

  async history(alertId: number): Promise<AlertHistoryEntry[]> {
    const rows = await this.db.rows<Omit<AlertHistoryEntry, 'at'> & { at: number }>(
      `SELECT ${ALERT_HISTORY_COLUMNS} FROM alert_events WHERE alert_id = $1 ORDER BY id`,
      [alertId],
    );
    return rows.map(historyEntryOf);
  }

  async eventsAfter(afterId: number, limit: number): Promise<AlertEventView[]> {
    return alertEventViewsOf(
      await this.db.rows<AlertEventRow>(
        `SELECT ${ALERT_EVENT_COLUMNS} FROM alert_events WHERE id > $1 ORDER BY id LIMIT $2`,
        [afterId, limit],
      ),
    );
  }

  async lastEventId(): Promise<number> {
    return (await this.db.one<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM alert_events'))!.id;
  }

  loadRuleStates(): Promise<RuleStateRow[]> {
    return this.db.rows<RuleStateRow>('SELECT subject, rule AS "ruleId", phase, since, severity FROM rule_state');
  }

  async activeBySite(): Promise<Map<string, { warning: number; critical: number }>> {
    return activeBySiteOf(
      await this.db.rows<{ siteId: string; severity: 'warning' | 'critical'; n: number }>(
        'SELECT site_id AS "siteId", severity, count(*) AS n FROM alerts WHERE active = 1 GROUP BY site_id, severity',
      ),
    );
  }

  activeCounts(): Promise<{ rule: string; severity: string; n: number }[]> {
    return this.db.rows('SELECT rule, severity, count(*) AS n FROM alerts WHERE active = 1 GROUP BY rule, severity');
  }

  forReport(from: number, to: number): Promise<ReportAlert[]> {
    return this.db.rows<ReportAlert>(
      `SELECT id, site_id AS "siteId", rule, severity, opened_at AS "openedAt", raised_at AS "raisedAt", acknowledged_at AS "acknowledgedAt",
              resolved_at AS "resolvedAt", closed_at AS "closedAt"
         FROM alerts WHERE opened_at < $1 AND (closed_at IS NULL OR closed_at >= $2) ORDER BY id`,
      [to, from],
    );
  }
}

/**
 * The notification outbox on PostgreSQL. A claim leases rows with `FOR UPDATE SKIP LOCKED`
 * (rows another dispatcher is claiming or recording are passed over, not waited for), under a
 * transaction lock per channel: the "no earlier pending row of this alert is leased to someone
 * else" test must see the other dispatchers' committed leases, which a concurrent claim's
 * uncommitted ones are not — without the lock two instances could each take one event of the
 * same alert and deliver them out of order. The lock is held for one short statement.
 */
/** The shared claim query with PostgreSQL's numbered parameters: $1 channel, $2 owner, $3 now. */
const CLAIMABLE_ROWS = CLAIMABLE_OUTBOX_ROWS.replaceAll('@channel', '$1')
  .replaceAll('@owner', '$2')
  .replaceAll('@now', '$3');

export class PgOutboxStore implements OutboxStore {
  constructor(private readonly db: PgDatabase) {}

  async claim(channel: string, limit: number, owner: string, now: number, leaseMs: number): Promise<OutboxRow[]> {
    return this.db.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`outbox:${channel}`]);
      const { rows } = await c.query<OutboxRow>(
        `WITH claimed AS (
           UPDATE outbox SET claimed_by = $2, claimed_until = $4 WHERE id IN (
             ${CLAIMABLE_ROWS} LIMIT $5 FOR UPDATE OF o SKIP LOCKED)
           RETURNING id, delivery_id, event_id, channel, attempts, next_attempt_at)
         SELECT c.id, c.delivery_id AS "deliveryId", c.event_id AS "eventId", e.alert_id AS "alertId", c.channel, c.attempts,
                c.next_attempt_at AS "nextAttemptAt"
           FROM claimed c JOIN alert_events e ON e.id = c.event_id ORDER BY c.id`,
        [channel, owner, now, now + leaseMs, limit],
      );
      return rows;
    });
  }

  async events(ids: readonly number[]): Promise<Map<number, AlertEventView>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.rows<AlertEventRow>(
      `SELECT ${ALERT_EVENT_COLUMNS} FROM alert_events WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(alertEventViewsOf(rows).map((e) => [e.id, e]));
  }

  /** A round of outcomes in one transaction (one commit, not one per delivery); releases the leases. */
  async recordOutcomes(outcomes: readonly DeliveryOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.transaction(async (c) => {
      for (const o of outcomes) {
        if (o.ok)
          await c.query(
            "UPDATE outbox SET state = 'delivered', delivered_at = $1, attempts = $2, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = $3",
            [o.at, o.attempts, o.id],
          );
        else
          await c.query(
            'UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL WHERE id = $5',
            [o.dead ? 'dead' : 'pending', o.attempts, o.nextAttemptAt, o.error.slice(0, 1000), o.id],
          );
      }
    });
  }

  async retry(id: number, now: number): Promise<boolean> {
    return (
      (await this.db.changes(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, claimed_by = NULL, claimed_until = NULL WHERE id = $2 AND state = 'dead'",
        [now, id],
      )) === 1
    );
  }

  async list(state: OutboxState | undefined, limit: number): Promise<OutboxView[]> {
    const rows = await this.db.rows<OutboxViewRow>(
      `SELECT ${OUTBOX_VIEW_COLUMNS} FROM outbox o JOIN alert_events e ON e.id = o.event_id
        WHERE ($1::text IS NULL OR o.state = $1) ORDER BY o.id DESC LIMIT $2`,
      [state ?? null, limit],
    );
    return rows.map(outboxViewOf);
  }

  pruneDelivered(before: number): Promise<number> {
    return this.db.changes("DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < $1", [before]);
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.rows<{ k: string; n: number }>(
      "SELECT channel || ':' || state AS k, count(*) AS n FROM outbox GROUP BY channel, state",
    );
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }
}
