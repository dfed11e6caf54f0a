/**
 * pgmq's archive tables (pgmq.a_<queue>): one row per message a worker finished, kept for
 * inspection only. Nothing reads them to decide anything (jobs dedupe on their own ids), so old
 * rows can go. pgmq indexes archived_at (btree) in every archive table.
 */
import { byTime, isoMicros, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'
import type { QueueName } from './queues.ts'

/**
 * Deletes up to `limit` rows of a queue's archive archived before `cutoff`, oldest first, from
 * `after` (a time cursor: the latest archived_at an earlier batch of the run deleted).
 */
export async function pruneArchive(q: Queryable, queue: QueueName, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> {
  // The table name cannot be a parameter; QueueName keeps it to our own queues.
  const rows = await q.query<{ deleted: number; last: string | null }>(
    `WITH doomed AS (SELECT msg_id FROM pgmq.a_${queue} WHERE archived_at < $1 AND archived_at >= $2::text::timestamptz
                      ORDER BY archived_at LIMIT $3),
          gone AS (DELETE FROM pgmq.a_${queue} a USING doomed d WHERE a.msg_id = d.msg_id RETURNING a.archived_at)
     SELECT count(*)::int AS deleted, ${isoMicros('max(archived_at)')} AS last FROM gone`,
    [cutoff, after, limit],
  )
  return byTime(rows[0], limit)
}
