/**
 * The shape of one bounded prune statement, shared by every tier's prune query: how many rows it
 * deleted, whether its batch was full (more may be waiting), and where the next batch of the same
 * run starts. Each statement runs on its own (autocommit) and touches at most `limit` rows, so it
 * holds row locks on old rows only, for milliseconds, and never a table lock.
 */
import type { Queryable } from './types.ts'

export interface PrunedBatch {
  deleted: number
  more: boolean
  /** Where the next batch starts (an id, or a time as ISO text with microseconds); null when done. */
  cursor: string | null
}

/**
 * Where a batch starts when no earlier batch of the run left a cursor. Time cursors go to SQL as
 * `$n::text::timestamptz`: postgres.js would serialize a timestamptz parameter as a JS Date,
 * which '-infinity' and microseconds are not.
 */
export const FIRST_ID = '0'
export const FIRST_TIME = '-infinity'

/**
 * SQL: a timestamptz as ISO text in UTC with its microseconds, so a cursor never rounds past a
 * row (a JS Date keeps milliseconds only).
 */
export const isoMicros = (expr: string) => `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

/** The result row of an oldest-first delete by a time index: rows deleted and the latest time deleted. */
export function byTime(row: { deleted: number; last: string | null } | undefined, limit: number): PrunedBatch {
  const deleted = row?.deleted ?? 0
  const more = deleted === limit
  return { deleted, more, cursor: more ? row!.last : null }
}

/**
 * Deletes rows older than `cutoff` from an append-only table whose bigint ids follow insertion
 * (and so its time column), oldest first: one batch of at most `limit` rows read in id order
 * after `after`, of which those older than the cutoff go. By primary key, so the prune needs no
 * index on the time column. `more`: the batch was full and its last row old. `table` and
 * `timeColumn` are the callers' constants, never input.
 */
export async function pruneOldestById(
  q: Queryable,
  target: { table: string; timeColumn: string },
  cutoff: Date,
  after: string,
  limit: number,
): Promise<PrunedBatch> {
  const { table, timeColumn: at } = target
  const [r] = await q.query<{ deleted: number; scanned: number; last: string | null; last_old: boolean | null }>(
    `WITH head AS (SELECT id, ${at} FROM ${table} WHERE id > $1::bigint ORDER BY id LIMIT $2),
          gone AS (DELETE FROM ${table} t USING head h WHERE t.id = h.id AND h.${at} < $3 RETURNING t.id)
     SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM head)::int AS scanned,
            (SELECT max(id) FROM head)::text AS last,
            (SELECT ${at} < $3 FROM head ORDER BY id DESC LIMIT 1) AS last_old`,
    [after, limit, cutoff],
  )
  const more = r!.scanned === limit && r!.last_old === true
  return { deleted: r!.deleted, more, cursor: more ? r!.last : null }
}

/**
 * Deletes rows older than `cutoff` by an index on the time column, oldest first: at most `limit`
 * rows from `after` (a time, inclusive, so rows sharing the last batch's time are not skipped).
 * `key` is the primary key, to delete exactly the rows read. Table and column names are the
 * callers' constants, never input.
 */
export async function pruneOldestByTime(
  q: Queryable,
  target: { table: string; timeColumn: string; key: readonly string[] },
  cutoff: Date,
  after: string,
  limit: number,
): Promise<PrunedBatch> {
  const { table, timeColumn: at } = target
  const key = target.key.join(', ')
  const rows = await q.query<{ deleted: number; last: string | null }>(
    `WITH doomed AS (SELECT ${key} FROM ${table} WHERE ${at} < $1 AND ${at} >= $2::text::timestamptz ORDER BY ${at} LIMIT $3),
          gone AS (DELETE FROM ${table} t USING doomed d
                    WHERE (${target.key.map((k) => `t.${k}`).join(', ')}) = (${target.key.map((k) => `d.${k}`).join(', ')}) RETURNING t.${at})
     SELECT count(*)::int AS deleted, ${isoMicros(`max(${at})`)} AS last FROM gone`,
    [cutoff, after, limit],
  )
  return byTime(rows[0], limit)
}
