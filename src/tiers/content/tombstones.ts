/**
 * Tombstones: what content.expire leaves of an expired message (src/tiers/content/retention.ts,
 * expireContent): the content_objects row with content_state 'expired', its sizes, kind and
 * `expires`, and its attachment rows (names and sizes, bytes gone). A read of the message answers
 * 410 from its ref, which says 'expired' on its own; the tombstone only adds the date it expired.
 */
import { byTime, isoMicros, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'

/**
 * Deletes up to `limit` tombstones that expired before `cutoff`, oldest first
 * (content_objects_tombstones), from `after` (the latest `expires` an earlier batch deleted).
 * Their attachment rows go with them (ON DELETE CASCADE); a transactional email's record keeps
 * its row with no content (ON DELETE SET NULL, through transactional_emails_content).
 */
export async function pruneTombstones(q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> {
  const rows = await q.query<{ deleted: number; last: string | null }>(
    `WITH doomed AS (SELECT storage_key FROM content.content_objects
                      WHERE content_state = 'expired' AND expires < $1 AND expires >= $2::text::timestamptz
                      ORDER BY expires LIMIT $3),
          gone AS (DELETE FROM content.content_objects c USING doomed d
                    WHERE c.storage_key = d.storage_key AND c.content_state = 'expired' RETURNING c.expires)
     SELECT count(*)::int AS deleted, ${isoMicros('max(expires)')} AS last FROM gone`,
    [cutoff, after, limit],
  )
  return byTime(rows[0], limit)
}
