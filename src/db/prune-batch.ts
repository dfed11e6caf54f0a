/**
 * The shape of one bounded prune statement, shared by every tier's prune query: how many rows it
 * deleted, whether its batch was full (more may be waiting), and where the next batch of the same
 * run starts. Each statement runs on its own (autocommit) and touches at most `limit` rows, so it
 * holds row locks on old rows only, for milliseconds, and never a table lock.
 */
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
