/**
 * Event intake (provider webhooks, tracking): resolve each event's message in the caller's tenant,
 * reject, one by one, the events that name no message of theirs, a date out of range, an id of
 * the server's form or a bounce reason outside the vocabulary, and queue the rest for the
 * analytics workers.
 * An event is accepted once its queue message commits; the 202 means it will be counted.
 */
import { z } from 'zod'
import type { Deps } from '../deps.ts'
import { auditEventsAccepted } from './audit.ts'
import { jsonBytes, MAX_EVENT_METADATA_BYTES } from '../limits.ts'
import type { ErrorCode } from '../errors.ts'
import { BOUNCE_REASONS, kindOf, type BounceReason } from '../inbound/reasons.ts'
import { envelopeFor } from '../jobs/enqueue.ts'
import { BOUNCE_TYPES, EVENT_TYPES, type AnalyticsEvent, type BounceType } from '../tiers/analytics/events.ts'
import { messageDimensions } from '../tiers/oltp/messages.ts'
import { sendEvents } from '../tiers/queue/pending-events.ts'
import { isServerEventId, sentEventId } from './analytics.ts'

/** An event as a provider or tracker reports it: it names one of the caller's messages. */
export const incomingEventSchema = z.object({
  event_id: z.string().trim().min(1).max(200),
  message_id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  occurred_at: z.iso.datetime({ offset: true }),
  bounce_type: z.enum(BOUNCE_TYPES).optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => jsonBytes(m) <= MAX_EVENT_METADATA_BYTES, `at most ${MAX_EVENT_METADATA_BYTES} bytes as JSON`)
    .optional(),
})

export type IncomingEvent = z.infer<typeof incomingEventSchema>

export interface Rejection {
  event_id: string
  code: ErrorCode
  detail: string
  /** The field at fault, when it is one. */
  field?: string
}

/** Events per queue message: big enough to apply efficiently, small enough to retry cheaply. */
const CHUNK = 100

/**
 * How far ahead of our clock an event may say it happened: provider clocks drift by seconds,
 * and an hour covers a misconfigured time zone without letting a date run years ahead.
 */
const MAX_FUTURE_MS = 60 * 60 * 1000

const isBounceReason = (v: unknown): v is BounceReason => (BOUNCE_REASONS as readonly unknown[]).includes(v)

function bounceType(e: IncomingEvent): BounceType | null {
  if (e.type !== 'bounced') return null
  const { bounce_type: fromMetadata, reason, status } = e.metadata ?? {}
  if (e.bounce_type) return e.bounce_type
  if (fromMetadata === 'soft' || fromMetadata === 'hard') return fromMetadata
  // A reason says whether the address is dead, as it does for the bounces we classify ourselves.
  if (isBounceReason(reason)) return kindOf(reason, typeof status === 'string' ? status : null)
  // A bounce that says nothing else is permanent: retrying a dead address hurts reputation.
  return 'hard'
}

/**
 * What is wrong with one event on its own, if anything. Checked here, per event, so one bad
 * event is refused with its reason while the batch's others are accepted: past the API, a date
 * the database cannot store would fail its whole chunk, and a date decades away would make
 * the rollups and the refresh span as many days.
 */
function invalidEvent(deps: Deps, e: IncomingEvent): Rejection | null {
  const reject = (field: string, detail: string): Rejection => ({ event_id: e.event_id, code: 'validation_failed', field, detail })
  if (isServerEventId(e.event_id)) {
    return reject('event_id', 'event ids of the form <message id>:<event type> are reserved for events the platform records itself')
  }
  const at = Date.parse(e.occurred_at)
  const now = deps.clock.now()
  const maxAgeDays = deps.config.EVENT_MAX_AGE_DAYS
  if (at < now - maxAgeDays * 86_400_000) return reject('occurred_at', `occurred_at is more than ${maxAgeDays} days ago`)
  if (at > now + MAX_FUTURE_MS) return reject('occurred_at', 'occurred_at is more than an hour in the future')
  // The views count bounces per reason from this vocabulary; null is taken as no reason given.
  const reason = e.metadata?.reason
  if (e.type === 'bounced' && reason !== undefined && reason !== null && !isBounceReason(reason)) {
    return reject('metadata.reason', `a bounce's metadata.reason must be one of ${BOUNCE_REASONS.join(', ')}`)
  }
  return null
}

export async function acceptEvents(deps: Deps, tenantId: string, incoming: readonly IncomingEvent[]) {
  const dims = await messageDimensions(deps.tiers.oltp, tenantId, [...new Set(incoming.map((e) => e.message_id))])
  const accepted: AnalyticsEvent[] = []
  const acceptedIds: string[] = []
  const rejected: Rejection[] = []
  for (const e of incoming) {
    const problem = invalidEvent(deps, e)
    if (problem) {
      rejected.push(problem)
      continue
    }
    const m = dims.get(e.message_id)
    if (!m) {
      rejected.push({ event_id: e.event_id, code: 'not_found', detail: `message ${e.message_id} not found` })
      continue
    }
    acceptedIds.push(e.event_id)
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
  // One tenant per chunk, named in the message headers: its as_of looks for its own waiting events.
  const acceptedAt = new Date(deps.clock.now()).toISOString()
  const chunks: Parameters<typeof sendEvents>[1][number][] = []
  for (let i = 0; i < accepted.length; i += CHUNK) {
    const { envelope } = envelopeFor('events.apply', { events: accepted.slice(i, i + CHUNK), accepted_at: acceptedAt })
    chunks.push({ message: envelope, headers: { tenant_id: tenantId } })
  }
  // The queue is not OLTP: recorded around the send (an intent first), one entry per request however many events.
  if (chunks.length) await auditEventsAccepted(deps, tenantId, { accepted: acceptedIds.length, rejected: rejected.length }, () => sendEvents(deps.tiers.queue, chunks))
  return { accepted: acceptedIds, rejected }
}
