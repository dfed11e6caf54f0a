import type { Queryable } from '../../db/types.ts'

export interface EventRow {
  tenant_id: string
  event_id: string
  message_id: string
  type: string
  occurred_at: Date
  email_account_id: string | null
  campaign_id: string | null
  sequence_step_id: string | null
  metadata: unknown
}

/** Idempotent on (tenant_id, event_id): returns false when the event was already recorded. */
export async function insertEvent(q: Queryable, e: EventRow): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO analytics.events (tenant_id, event_id, message_id, type, occurred_at, email_account_id, campaign_id,
       sequence_step_id, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) ON CONFLICT DO NOTHING RETURNING event_id`,
    [
      e.tenant_id,
      e.event_id,
      e.message_id,
      e.type,
      e.occurred_at,
      e.email_account_id,
      e.campaign_id,
      e.sequence_step_id,
      e.metadata === null ? null : JSON.stringify(e.metadata),
    ],
  )
  return rows.length > 0
}

export function listEventsForMessage(q: Queryable, tenantId: string, messageId: string) {
  return q.query<EventRow>(
    `SELECT tenant_id, event_id, message_id, type, occurred_at, email_account_id, campaign_id, sequence_step_id, metadata
       FROM analytics.events WHERE tenant_id = $1 AND message_id = $2 ORDER BY occurred_at, event_id`,
    [tenantId, messageId],
  )
}
