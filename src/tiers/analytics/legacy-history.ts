/**
 * Historical counts of legacy-migrated messages: rollup deltas applied straight to rollup_daily
 * (never through events, which the prune deletes by date and apply_events refuses past the
 * horizon), recorded in legacy_history per (run, batch) in the same transaction. Every statement
 * runs inside the caller's analytics transaction, after lockLegacyHistory.
 */
import type { Queryable } from '../../db/types.ts'

/** One rollup row's change: what apply_events would have added for these messages. */
export interface RollupDelta {
  tenant_id: string
  dimension: 'campaign' | 'step' | 'mailbox'
  dim_id: string
  campaign_id: string | null
  day: string
  metric: string
  n: number
}

/** A message_firsts row the history set: `prev` is what it was before (null: no row). */
export interface FirstSet {
  tenant_id: string
  message_id: string
  type: string
  prev: string | null
  set: string
}

export interface HistoryDeltas {
  rollups: RollupDelta[]
  firsts: FirstSet[]
}

/** One batch's history at a time per run: two writers of one marker would each undo the other's old deltas. */
export async function lockLegacyHistory(q: Queryable, run: string): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`edp.legacy-history:${run}`])
}

export async function getLegacyHistory(q: Queryable, run: string, batchNo: number): Promise<HistoryDeltas | undefined> {
  const rows = await q.query<{ deltas: HistoryDeltas }>(`SELECT deltas FROM analytics.legacy_history WHERE run = $1 AND batch_no = $2`, [run, batchNo])
  return rows[0]?.deltas
}

/** The batch numbers of a run whose history is recorded. */
export async function legacyHistoryBatches(q: Queryable, run: string): Promise<Set<number>> {
  const rows = await q.query<{ batch_no: number }>(`SELECT batch_no FROM analytics.legacy_history WHERE run = $1`, [run])
  return new Set(rows.map((r) => r.batch_no))
}

/** Every marker, optionally of the runs given (rollback walks them all). */
export function listLegacyHistory(q: Queryable): Promise<{ run: string; batch_no: number }[]> {
  return q.query<{ run: string; batch_no: number }>(`SELECT run, batch_no FROM analytics.legacy_history ORDER BY run, batch_no`)
}

export async function putLegacyHistory(q: Queryable, run: string, batchNo: number, deltas: HistoryDeltas): Promise<void> {
  await q.query(
    `INSERT INTO analytics.legacy_history (run, batch_no, deltas) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (run, batch_no) DO UPDATE SET deltas = excluded.deltas, applied_at = now()`,
    [run, batchNo, JSON.stringify(deltas)],
  )
}

export async function deleteLegacyHistory(q: Queryable, run: string, batchNo: number): Promise<void> {
  await q.query(`DELETE FROM analytics.legacy_history WHERE run = $1 AND batch_no = $2`, [run, batchNo])
}

/** The firsts rows of these (tenant, message, type), locked (live applies to the same messages wait): first_at as ISO text, or 'infinity'. */
export async function lockFirsts(q: Queryable, keys: readonly { tenant_id: string; message_id: string; type: string }[]) {
  if (keys.length === 0) return new Map<string, string>()
  const rows = await q.query<{ tenant_id: string; message_id: string; type: string; first_at: string }>(
    `SELECT f.tenant_id, f.message_id, f.type,
            CASE WHEN f.first_at = 'infinity' THEN 'infinity' ELSE to_char(f.first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END AS first_at
       FROM analytics.message_firsts f
       JOIN jsonb_to_recordset($1::jsonb) AS k(tenant_id uuid, message_id uuid, type text) USING (tenant_id, message_id, type)
      ORDER BY 1, 2, 3 FOR UPDATE OF f`,
    [JSON.stringify(keys)],
  )
  return new Map(rows.map((r) => [`${r.tenant_id}/${r.message_id}/${r.type}`, r.first_at]))
}

/** Sets firsts rows; `at` null deletes the row (the history had created it). */
export async function writeFirsts(q: Queryable, rows: readonly { tenant_id: string; message_id: string; type: string; at: string | null }[]) {
  if (rows.length === 0) return
  const json = JSON.stringify(rows)
  await q.query(
    `DELETE FROM analytics.message_firsts f USING jsonb_to_recordset($1::jsonb) AS k(tenant_id uuid, message_id uuid, type text, at timestamptz)
      WHERE k.at IS NULL AND (f.tenant_id, f.message_id, f.type) = (k.tenant_id, k.message_id, k.type)`,
    [json],
  )
  await q.query(
    `INSERT INTO analytics.message_firsts AS f (tenant_id, message_id, type, first_at)
     SELECT tenant_id, message_id, type, at FROM jsonb_to_recordset($1::jsonb) AS k(tenant_id uuid, message_id uuid, type text, at timestamptz)
      WHERE at IS NOT NULL ORDER BY 1, 2, 3
     ON CONFLICT (tenant_id, message_id, type) DO UPDATE SET first_at = excluded.first_at`,
    [json],
  )
}

const DELTA_ROWS = `jsonb_to_recordset($1::jsonb) AS x(tenant_id uuid, dimension text, dim_id uuid, campaign_id uuid, day date, metric text, n bigint)`

/** Drops the rows the deltas left at zero (see addRollupDeltas) and flags the schedule dirty. */
async function afterRollupChange(q: Queryable, json: string): Promise<void> {
  await q.query(
    `DELETE FROM analytics.rollup_daily r USING ${DELTA_ROWS}
      WHERE r.n = 0 AND (r.tenant_id, r.dimension, r.dim_id, r.day, r.metric) = (x.tenant_id, x.dimension, x.dim_id, x.day, x.metric)`,
    [json],
  )
  await q.query(`UPDATE analytics.refresh_state SET dirty_since = coalesce(dirty_since, now()) WHERE id = 1`)
}

/**
 * Adds the deltas to rollup_daily, drops rows left at zero (a rollback leaves no row a migration
 * alone created, so a report lists no empty day or step), and marks their keys dirty as
 * apply_events does, so the next refresh recomputes those view rows. The refresh schedule is
 * flagged (dirty_since) without touching any tenant's as_of.
 */
export async function addRollupDeltas(q: Queryable, deltas: readonly RollupDelta[]): Promise<void> {
  const rows = deltas.filter((d) => d.n !== 0)
  if (rows.length === 0) return
  const json = JSON.stringify(rows)
  await q.query(
    `WITH bumped AS (
       INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
       SELECT tenant_id, dimension, dim_id, campaign_id, day, metric, n FROM ${DELTA_ROWS}
        ORDER BY tenant_id, dimension, dim_id, day, metric
       ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n
       RETURNING tenant_id, dimension, dim_id, day
     )
     INSERT INTO analytics.dirty_keys (tenant_id, dimension, dim_id, day) SELECT DISTINCT tenant_id, dimension, dim_id, day FROM bumped`,
    [json],
  )
  await afterRollupChange(q, json)
}

/**
 * Takes deltas back out. A count the deltas added comes out of the row only if it still exists: a
 * row gone since was purged with its tenant (nothing else deletes a nonzero rollup), and must not
 * come back as a negative count. A count they took away (a unique reply moved to an earlier day)
 * goes back in, into a row the move may have left at zero and deleted.
 */
export async function subtractRollupDeltas(q: Queryable, deltas: readonly RollupDelta[]): Promise<void> {
  await addRollupDeltas(q, deltas.filter((d) => d.n < 0).map((d) => ({ ...d, n: -d.n })))
  const rows = deltas.filter((d) => d.n > 0)
  if (rows.length === 0) return
  const json = JSON.stringify(rows)
  await q.query(
    `WITH taken AS (
       UPDATE analytics.rollup_daily r SET n = r.n - x.n
         FROM (SELECT * FROM ${DELTA_ROWS} ORDER BY tenant_id, dimension, dim_id, day, metric) x
        WHERE (r.tenant_id, r.dimension, r.dim_id, r.day, r.metric) = (x.tenant_id, x.dimension, x.dim_id, x.day, x.metric)
       RETURNING r.tenant_id, r.dimension, r.dim_id, r.day
     )
     INSERT INTO analytics.dirty_keys (tenant_id, dimension, dim_id, day) SELECT DISTINCT tenant_id, dimension, dim_id, day FROM taken`,
    [json],
  )
  await afterRollupChange(q, json)
}

/**
 * Each (tenant, message, type)'s earliest stored event and its dimensions: where a first the
 * history set goes back to when the history leaves (a live reply that came after it).
 */
export async function earliestEvents(q: Queryable, keys: readonly { tenant_id: string; message_id: string; type: string }[]) {
  if (keys.length === 0) return new Map<string, { at: string; campaign_id: string | null; sequence_step_id: string | null; email_account_id: string | null }>()
  const rows = await q.query<{ tenant_id: string; message_id: string; type: string; at: string; campaign_id: string | null; sequence_step_id: string | null; email_account_id: string | null }>(
    `SELECT DISTINCT ON (e.tenant_id, e.message_id, e.type) e.tenant_id, e.message_id, e.type,
            to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, e.campaign_id, e.sequence_step_id, e.email_account_id
       FROM analytics.events e
       JOIN jsonb_to_recordset($1::jsonb) AS k(tenant_id uuid, message_id uuid, type text)
         ON (e.tenant_id, e.message_id, e.type) = (k.tenant_id, k.message_id, k.type)
      ORDER BY e.tenant_id, e.message_id, e.type, e.occurred_at`,
    [JSON.stringify(keys)],
  )
  return new Map(rows.map(({ tenant_id, message_id, type, ...r }) => [`${tenant_id}/${message_id}/${type}`, r]))
}
