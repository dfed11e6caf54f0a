/**
 * Event facts: the vocabulary of event types, the one shape of an event on its way in (a zod
 * schema the job registry and the apply step share), and the statement that applies a batch.
 */
import { z } from 'zod'
import { byTime, isoMicros, type PrunedBatch } from '../../db/prune-batch.ts'
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

export const BOUNCE_TYPES = ['hard', 'soft'] as const
export type BounceType = (typeof BOUNCE_TYPES)[number]

/** An event with its message's dimensions already resolved from OLTP (by the API or the write path). */
export const analyticsEventSchema = z.object({
  tenant_id: z.uuid(),
  event_id: z.string().min(1).max(200),
  message_id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  bounce_type: z.enum(BOUNCE_TYPES).nullable(),
  occurred_at: z.iso.datetime({ offset: true }),
  email_account_id: z.uuid().nullable(),
  campaign_id: z.uuid().nullable(),
  sequence_step_id: z.uuid().nullable(),
  metadata: z.unknown(),
})

export type AnalyticsEvent = z.infer<typeof analyticsEventSchema>

/**
 * Applies events and their rollups in one statement (analytics.apply_events), so a batch commits
 * or not as a whole; events already recorded change nothing. `schedule` says the views just
 * became dirty (or a scheduled refresh looks lost) and a refresh should be enqueued. A value the
 * database refuses fails the whole batch with a data error (isDataError).
 */
export async function applyEvents(q: Queryable, events: readonly AnalyticsEvent[], rescheduleAfterSeconds: number) {
  const [row] = await q.query<{ applied: number; schedule: boolean }>(
    `SELECT applied, schedule FROM analytics.apply_events($1::jsonb, make_interval(secs => $2))`,
    [JSON.stringify(events), rescheduleAfterSeconds],
  )
  return row!
}

/**
 * SQLSTATE classes 22 (data exception: a date out of range, a malformed uuid) and 23 (integrity
 * violation): the batch itself is wrong, so retrying it unchanged can never succeed. Both drivers
 * put the SQLSTATE in `code`.
 */
export const isDataError = (err: unknown): boolean => /^2[23]/.test(String((err as { code?: unknown } | null)?.code ?? ''))

export function listEventsForMessage(q: Queryable, tenantId: string, messageId: string) {
  return q.query<{ event_id: string; type: string; occurred_at: Date; email_account_id: string | null }>(
    `SELECT event_id, type, occurred_at, email_account_id FROM analytics.events
      WHERE tenant_id = $1 AND message_id = $2 ORDER BY occurred_at, event_id`,
    [tenantId, messageId],
  )
}

/**
 * Deletes up to `limit` events that occurred before `cutoff`, oldest first (events_occurred),
 * from `after` (the latest occurred_at an earlier batch of the run deleted). Rollups and
 * message_firsts are not touched: the counts stay. Only safe below the horizon under which
 * workers refuse events (eventHorizon in src/services/analytics.ts), or a redelivered event
 * would find no row to collide with and be counted again.
 */
export async function pruneEvents(q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> {
  const rows = await q.query<{ deleted: number; last: string | null }>(
    `WITH gone AS (
       DELETE FROM analytics.events WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM analytics.events WHERE occurred_at < $1 AND occurred_at >= $2::text::timestamptz ORDER BY occurred_at LIMIT $3))
       RETURNING occurred_at)
     SELECT count(*)::int AS deleted, ${isoMicros('max(occurred_at)')} AS last FROM gone`,
    [cutoff, after, limit],
  )
  return byTime(rows[0], limit)
}
