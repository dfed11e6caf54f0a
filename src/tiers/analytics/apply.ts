import type { Queryable } from '../../db/types.ts'

export const EVENT_TYPES = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'replied',
  'auto_replied',
  'bounced',
  'unsubscribed',
  'complained',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** An event with the dimensions of its message already resolved (by the API, from OLTP). */
export interface AnalyticsEvent {
  tenant_id: string
  event_id: string
  message_id: string
  type: EventType
  bounce_type: 'hard' | 'soft' | null
  occurred_at: string
  email_account_id: string | null
  campaign_id: string | null
  sequence_step_id: string | null
  metadata: unknown
}

/**
 * Applies events and their rollups in one statement (analytics.apply_events), so a batch commits
 * or not as a whole; events already recorded change nothing. `schedule` says the views just
 * became dirty (or a scheduled refresh looks lost) and a refresh should be enqueued.
 */
export async function applyEvents(q: Queryable, events: readonly AnalyticsEvent[], rescheduleAfterSeconds = 30) {
  const [row] = await q.query<{ applied: number; schedule: boolean }>(
    `SELECT applied, schedule FROM analytics.apply_events($1::jsonb, make_interval(secs => $2))`,
    [JSON.stringify(events), rescheduleAfterSeconds],
  )
  return row!
}

export function listEventsForMessage(q: Queryable, tenantId: string, messageId: string) {
  return q.query<{ event_id: string; type: string; occurred_at: Date; email_account_id: string | null }>(
    `SELECT event_id, type, occurred_at, email_account_id FROM analytics.events
      WHERE tenant_id = $1 AND message_id = $2 ORDER BY occurred_at, event_id`,
    [tenantId, messageId],
  )
}
