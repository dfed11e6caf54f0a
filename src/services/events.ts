/**
 * Event intake (provider webhooks, tracking): resolve each event's message in the caller's tenant,
 * reject the ones that name no message of theirs, and queue the rest for the analytics workers.
 * An event is accepted once its queue message commits; the 202 means it will be counted.
 */
import { z } from 'zod'
import type { Deps } from '../deps.ts'
import type { ErrorCode } from '../errors.ts'
import { envelopeFor } from '../jobs/enqueue.ts'
import { BOUNCE_TYPES, EVENT_TYPES, type AnalyticsEvent, type BounceType } from '../tiers/analytics/events.ts'
import { messageDimensions } from '../tiers/oltp/messages.ts'
import { sendBatch } from '../tiers/queue/pgmq.ts'
import { sentEventId } from './analytics.ts'

/** An event as a provider or tracker reports it: it names one of the caller's messages. */
export const incomingEventSchema = z.object({
  event_id: z.string().trim().min(1).max(200),
  message_id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  occurred_at: z.iso.datetime({ offset: true }),
  bounce_type: z.enum(BOUNCE_TYPES).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
})

export type IncomingEvent = z.infer<typeof incomingEventSchema>

export interface Rejection {
  event_id: string
  code: ErrorCode
  detail: string
}

/** Events per queue message: big enough to apply efficiently, small enough to retry cheaply. */
const CHUNK = 100

function bounceType(e: IncomingEvent): BounceType | null {
  if (e.type !== 'bounced') return null
  const fromMetadata = e.metadata?.bounce_type
  // A bounce that does not say otherwise is permanent: retrying a dead address hurts reputation.
  return e.bounce_type ?? (fromMetadata === 'soft' || fromMetadata === 'hard' ? fromMetadata : 'hard')
}

export async function acceptEvents(deps: Deps, tenantId: string, incoming: readonly IncomingEvent[]) {
  const dims = await messageDimensions(deps.tiers.oltp, tenantId, [...new Set(incoming.map((e) => e.message_id))])
  const accepted: AnalyticsEvent[] = []
  const rejected: Rejection[] = []
  for (const e of incoming) {
    const m = dims.get(e.message_id)
    if (!m) {
      rejected.push({ event_id: e.event_id, code: 'not_found', detail: `message ${e.message_id} not found` })
      continue
    }
    accepted.push({
      tenant_id: tenantId,
      // The write path already records `sent` for every outbound message under this id; a
      // provider's own `sent` report for it must not count the message twice.
      event_id: e.type === 'sent' ? sentEventId(e.message_id) : e.event_id,
      message_id: e.message_id,
      type: e.type,
      bounce_type: bounceType(e),
      occurred_at: new Date(e.occurred_at).toISOString(),
      email_account_id: m.email_account_id,
      campaign_id: m.campaign_id,
      sequence_step_id: m.sequence_step_id,
      metadata: e.metadata ?? null,
    })
  }
  const chunks = []
  for (let i = 0; i < accepted.length; i += CHUNK) chunks.push(envelopeFor('events.apply', { events: accepted.slice(i, i + CHUNK) }))
  // Every chunk goes to the queue the job registry names for events.apply, in one statement.
  if (chunks.length) await sendBatch(deps.tiers.queue, chunks[0]!.queue, chunks.map((c) => c.envelope))
  return { accepted: incoming.filter((e) => dims.has(e.message_id)).map((e) => e.event_id), rejected }
}
