/** OLTP reads behind the analytics history of legacy-migrated batches (src/services/legacy/history.ts). */
import type { Queryable } from '../../db/types.ts'

/**
 * A batch's migrated messages as the facts the live path would have recorded for them: an
 * outbound message is sent on its own dimensions; an inbound one answering an outbound message
 * (its parent) counts on the parent's message and dimensions. Times as ISO text (microseconds
 * survive the jsonb round trip).
 */
export interface HistoryFactRow {
  tenant_id: string
  message_id: string
  direction: 'inbound' | 'outbound'
  message_type: string
  at: string
  /** The message the fact counts on: itself when outbound, its outbound parent when an answer. */
  on_id: string | null
  email_account_id: string | null
  campaign_id: string | null
  sequence_step_id: string | null
}

export function batchHistoryFacts(q: Queryable, run: string, batchNo: number): Promise<HistoryFactRow[]> {
  return q.query<HistoryFactRow>(
    `SELECT m.tenant_id, m.id AS message_id, m.direction, m.message_type,
            to_char(m.created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
            CASE WHEN m.direction = 'outbound' THEN m.id ELSE p.id END AS on_id,
            CASE WHEN m.direction = 'outbound' THEN m.email_account_id ELSE p.email_account_id END AS email_account_id,
            CASE WHEN m.direction = 'outbound' THEN m.campaign_id ELSE p.campaign_id END AS campaign_id,
            CASE WHEN m.direction = 'outbound' THEN m.sequence_step_id ELSE p.sequence_step_id END AS sequence_step_id
       FROM oltp.legacy_ids l
       JOIN oltp.inbox_message_refs m ON m.tenant_id = l.tenant_id AND m.id = l.message_id
       LEFT JOIN oltp.inbox_message_refs p ON p.tenant_id = m.tenant_id AND p.id = m.parent_message_id AND p.direction = 'outbound'
      WHERE l.run = $1 AND l.batch_no = $2
      ORDER BY m.tenant_id, m.id`,
    [run, batchNo],
  )
}

/**
 * Other batches of the run holding answers to this batch's messages: linking a parent that
 * arrived later changes what the answer's batch counts.
 */
export async function batchesAnsweringBatch(q: Queryable, run: string, batchNo: number): Promise<number[]> {
  const rows = await q.query<{ batch_no: number }>(
    `SELECT DISTINCT a.batch_no
       FROM oltp.legacy_ids l
       JOIN oltp.inbox_message_refs c ON c.tenant_id = l.tenant_id AND c.parent_message_id = l.message_id
       JOIN oltp.legacy_ids a ON a.tenant_id = c.tenant_id AND a.message_id = c.id AND a.run = l.run
      WHERE l.run = $1 AND l.batch_no = $2 AND a.batch_no <> $2
      ORDER BY 1`,
    [run, batchNo],
  )
  return rows.map((r) => r.batch_no)
}
