import type { PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'

/**
 * Deletes audit_log rows created before `cutoff`, oldest first: one batch of at most `limit` rows
 * in id order after `after` (ids follow insertion), of which those older than the cutoff go. By
 * primary key: the table's other index leads with the tenant. `more`: the batch was full and its
 * last row old.
 */
export async function pruneAuditLog(q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> {
  const [r] = await q.query<{ deleted: number; scanned: number; last: string | null; last_old: boolean | null }>(
    `WITH head AS (SELECT id, created FROM oltp.audit_log WHERE id > $1::bigint ORDER BY id LIMIT $2),
          gone AS (DELETE FROM oltp.audit_log a USING head h WHERE a.id = h.id AND h.created < $3 RETURNING a.id)
     SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT count(*) FROM head)::int AS scanned,
            (SELECT max(id) FROM head)::text AS last,
            (SELECT created < $3 FROM head ORDER BY id DESC LIMIT 1) AS last_old`,
    [after, limit, cutoff],
  )
  const more = r!.scanned === limit && r!.last_old === true
  return { deleted: r!.deleted, more, cursor: more ? r!.last : null }
}
