/**
 * A deleted tenant's rows in the content tier, a bounded batch at a time. Records before bodies
 * (a transactional record points at its body), bodies before blobs (an attachment points at its
 * blob); attachments go with their bodies, by cascade.
 */
import type { Queryable } from '../../db/types.ts'

export const CONTENT_TABLES = ['transactional_emails', 'notifications', 'retention_policies', 'content_objects', 'attachment_blobs'] as const
export type ContentTable = (typeof CONTENT_TABLES)[number]

/** Rows of the tenant in the table; for content_objects, its attachments too (they go with it). */
export async function countTenantRows(q: Queryable, table: ContentTable, tenantId: string): Promise<Record<string, number>> {
  const count = async (t: string) =>
    (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM content.${t} WHERE tenant_id = $1`, [tenantId]))[0]!.n
  if (table !== 'content_objects') return { [table]: await count(table) }
  return { content_objects: await count('content_objects'), attachments: await count('attachments') }
}

/** Deletes up to `limit` of the tenant's rows of the table; returns how many. */
export async function deleteTenantRows(q: Queryable, table: ContentTable, tenantId: string, limit: number): Promise<number> {
  // tenant_id outside too: a ctid names a row only within one table (on a cluster, one shard).
  const rows = await q.query(
    `DELETE FROM content.${table} WHERE tenant_id = $1 AND ctid = ANY(ARRAY(SELECT ctid FROM content.${table} WHERE tenant_id = $1 LIMIT $2)) RETURNING 1`,
    [tenantId, limit],
  )
  return rows.length
}
