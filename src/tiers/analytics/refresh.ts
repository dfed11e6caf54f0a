import type { Db, Queryable } from '../../db/types.ts'
import type { refreshState } from './schema.ts'

const VIEWS = ['campaign_analytics', 'mailbox_analytics', 'sequence_step_analytics'] as const

export type RefreshState = Omit<typeof refreshState.$inferSelect, 'id'>

export async function getRefreshState(q: Queryable): Promise<RefreshState> {
  const [row] = await q.query<RefreshState>(
    `SELECT dirty_since, scheduled_at, as_of, refreshed_at, duration_ms FROM analytics.refresh_state WHERE id = 1`,
  )
  return row!
}

/**
 * Marks the views clean just before refreshing them: anything applied after this sets them
 * dirty again and schedules another refresh, so nothing is missed between the two.
 */
export async function markClean(q: Queryable): Promise<void> {
  await q.query(`UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL WHERE id = 1`)
}

/** Refreshes the three views without blocking readers (each has a unique index). */
export async function refreshMaterializedViews(db: Db): Promise<void> {
  for (const view of VIEWS) await db.exec(`REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.${view}`)
}

export async function recordRefresh(q: Queryable, asOf: Date, durationMs: number): Promise<void> {
  await q.query(
    `UPDATE analytics.refresh_state
        SET as_of = greatest(coalesce(as_of, $1), $1), refreshed_at = now(), duration_ms = $2
      WHERE id = 1`,
    [asOf, durationMs],
  )
}

/**
 * Claims the right to schedule a refresh when the views are dirty and no refresh was scheduled
 * within `afterSeconds` (the enqueue after an apply can be lost to a crash). True: enqueue one.
 */
export async function claimOverdueRefresh(q: Queryable, afterSeconds: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE analytics.refresh_state SET scheduled_at = now()
      WHERE id = 1 AND dirty_since IS NOT NULL
        AND (scheduled_at IS NULL OR scheduled_at < now() - make_interval(secs => $1))
      RETURNING id`,
    [afterSeconds],
  )
  return rows.length > 0
}
