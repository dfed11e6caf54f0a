import { pruneOldestById, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'

/** Audit rows created before `cutoff`, a bounded batch by primary key (the other index leads with the tenant). */
export const pruneAuditLog = (q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  pruneOldestById(q, { table: 'oltp.audit_log', timeColumn: 'created' }, cutoff, after, limit)
