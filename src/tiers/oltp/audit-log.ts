import { pruneOldestById, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'

/** Audit rows created before `cutoff`, a bounded batch by primary key (the other index leads with the tenant). */
export const pruneAuditLog = (q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  pruneOldestById(q, { table: 'oltp.audit_log', timeColumn: 'created' }, cutoff, after, limit)

export interface AuditEntry {
  tenantId: string | null
  actor: string
  action: string
  targetType: string | null
  targetId: string | null
  detail: unknown
}

/** Records who did what, in the caller's transaction (so the change and its record commit together). */
export async function insertAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(`INSERT INTO oltp.audit_log (tenant_id, actor, action, target_type, target_id, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
    e.tenantId,
    e.actor,
    e.action,
    e.targetType,
    e.targetId,
    e.detail === null ? null : JSON.stringify(e.detail),
  ])
}
