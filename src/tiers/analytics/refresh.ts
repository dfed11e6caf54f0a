import type { Queryable } from '../../db/types.ts'
import type { refreshState } from './schema.ts'

/** The refresh's state, and whether the views miss changes of any tenant (`dirty`). */
export type RefreshState = Omit<typeof refreshState.$inferSelect, 'id'> & { dirty: boolean }

export async function getRefreshState(q: Queryable): Promise<RefreshState> {
  const [row] = await q.query<RefreshState>(
    `SELECT EXISTS (SELECT 1 FROM analytics.dirty_keys) AS dirty, dirty_since, scheduled_at, as_of, refreshed_at, duration_ms
       FROM analytics.refresh_state WHERE id = 1`,
  )
  return row!
}

/**
 * Clears the schedule just before a refresh: anything applied after this marks the views dirty
 * again and schedules another refresh, so nothing is missed between the two. (What the views
 * miss is analytics.dirty_keys; dirty_since only drives the scheduling.)
 */
export async function markClean(q: Queryable): Promise<void> {
  await q.query(`UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL WHERE id = 1`)
}

/**
 * Recomputes the view rows whose rollups changed since the last refresh, in one transaction
 * (analytics.refresh_dirty), and records as_of for each tenant it covered: `asOf` for a tenant
 * with nothing waiting, else when its oldest waiting event was accepted. Returns the number of
 * (dimension, id, day) rows recomputed.
 */
export async function refreshDirty(q: Queryable, asOf: Date, pending: ReadonlyMap<string, Date>): Promise<number> {
  const [row] = await q.query<{ refreshed: number }>(`SELECT refreshed FROM analytics.refresh_dirty($1, $2::jsonb)`, [
    asOf,
    JSON.stringify(Object.fromEntries(pending)),
  ])
  return row!.refreshed
}

/** Whether the views still miss changes of the tenant, and the as_of its last refresh recorded for it. */
export async function tenantRefreshState(q: Queryable, tenantId: string): Promise<{ dirty: boolean; as_of: Date | null }> {
  const [row] = await q.query<{ dirty: boolean; as_of: Date | null }>(
    `SELECT EXISTS (SELECT 1 FROM analytics.dirty_keys WHERE tenant_id = $1) AS dirty,
            (SELECT as_of FROM analytics.tenant_as_of WHERE tenant_id = $1) AS as_of`,
    [tenantId],
  )
  return row!
}

/** The all-tenant as_of (for monitoring) and how long the refresh took. */
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
