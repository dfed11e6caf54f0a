/**
 * A deleted tenant's rows in the analytics tier, a bounded batch at a time (each statement holds
 * row locks on at most `limit` rows). The views, dirty keys and as_of are deleted under the lock
 * the refresh takes (analytics.refresh_dirty), so a refresh running meanwhile cannot write back
 * a row of the tenant after it went.
 */
import type { Db, Queryable } from '../../db/types.ts'

/** Facts and counts first, then what the refresh writes. */
export const ANALYTICS_TABLES = [
  'events',
  'message_firsts',
  'rollup_daily',
  'dirty_keys',
  'campaign_analytics',
  'mailbox_analytics',
  'sequence_step_analytics',
  'tenant_as_of',
] as const
export type AnalyticsTable = (typeof ANALYTICS_TABLES)[number]

/** What refresh_dirty writes: deleted under its lock. */
const REFRESHED: ReadonlySet<AnalyticsTable> = new Set(['dirty_keys', 'campaign_analytics', 'mailbox_analytics', 'sequence_step_analytics', 'tenant_as_of'])
/** analytics.refresh_dirty's advisory lock (sql/analytics/0006_bounce_reasons.sql). */
const REFRESH_LOCK = 7301552020

export async function countTenantRows(q: Queryable, table: AnalyticsTable, tenantId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.${table} WHERE tenant_id = $1`, [tenantId])
  return row!.n
}

/** Deletes up to `limit` of the tenant's rows of the table; returns how many. */
export async function deleteTenantRows(db: Db, table: AnalyticsTable, tenantId: string, limit: number): Promise<number> {
  const text = `DELETE FROM analytics.${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM analytics.${table} WHERE tenant_id = $1 LIMIT $2)) RETURNING 1`
  if (!REFRESHED.has(table)) return (await db.query(text, [tenantId, limit])).length
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [REFRESH_LOCK])
    return (await tx.query(text, [tenantId, limit])).length
  })
}
