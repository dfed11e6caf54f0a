/**
 * Postmark webhooks: one JSON object per POST, its RecordType one of Bounce, SpamComplaint,
 * Delivery, Open, Click or SubscriptionChange. Postmark signs nothing: the webhook URL carries
 * HTTP Basic credentials, which arrive as the Authorization header. Field names follow Postmark's
 * webhook docs (ID, Type, TypeCode, Email or Recipient, Description, Details, BouncedAt,
 * DeliveredAt, ReceivedAt, ChangedAt, MessageID, Metadata, SuppressSending, SuppressionReason).
 */
import { createHash } from 'node:crypto'
import { reasonOf, type BounceReason } from '../inbound/reasons.ts'
import {
  bounceDetail,
  eventKey,
  isoOf,
  malformed,
  obj,
  ourMessageId,
  parseJson,
  recipientOf,
  required,
  sameBytes,
  statusOf,
  str,
  unauthenticated,
  type Json,
} from './common.ts'
import type { EventType, ProviderEvent, ProviderSettings, WebhookOutcome } from './types.ts'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()

function checkCredentials(settings: Extract<ProviderSettings, { provider: 'postmark' }>, authorization: string | null): void {
  const encoded = /^basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization ?? '')?.[1]
  if (!encoded) throw unauthenticated('missing HTTP Basic credentials')
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const username = colon < 0 ? decoded : decoded.slice(0, colon)
  const password = colon < 0 ? '' : decoded.slice(colon + 1)
  // Hashing the username gives equal lengths, so the comparison does not leak how long it is.
  const userOk = sameBytes(sha256(username), sha256(settings.username))
  const expected = /^[0-9a-f]{64}$/i.test(settings.password_sha256) ? Buffer.from(settings.password_sha256, 'hex') : null
  const passwordOk = expected !== null && sameBytes(sha256(password), expected)
  if (!(userOk && passwordOk) || colon < 0) throw unauthenticated('the HTTP Basic credentials do not match')
}

/**
 * What each bounce Type means here: its event type, the reason when Details says nothing, and
 * whether it is soft whatever the reason (Postmark's own word that the address may work). The
 * Types left out (AutoResponder, Subscribe, AddressChange, ChallengeVerification,
 * ManuallyDeactivated, SMTPApiError, TemplateRenderingFailed, ...) say nothing about delivery.
 */
const BOUNCE_TYPES: Record<string, { type: EventType; fallback: BounceReason; soft: boolean }> = {
  HardBounce: { type: 'bounced', fallback: 'user_unknown', soft: false },
  BadEmailAddress: { type: 'bounced', fallback: 'user_unknown', soft: false },
  SoftBounce: { type: 'bounced', fallback: 'undetermined', soft: true },
  Unknown: { type: 'bounced', fallback: 'undetermined', soft: true },
  DnsError: { type: 'bounced', fallback: 'network', soft: true },
  Blocked: { type: 'bounced', fallback: 'blocked', soft: true },
  DMARCPolicy: { type: 'bounced', fallback: 'auth_failure', soft: true },
  VirusNotification: { type: 'bounced', fallback: 'spam_detected', soft: true },
  Transient: { type: 'delayed', fallback: 'undetermined', soft: true },
  SpamNotification: { type: 'complained', fallback: 'undetermined', soft: true },
  SpamComplaint: { type: 'complained', fallback: 'undetermined', soft: true },
  Unsubscribe: { type: 'unsubscribed', fallback: 'undetermined', soft: true },
}

/** Bounce IDs can pass 2^53: keep the digits as sent, not the nearest double. */
function exactIds(this: unknown, key: string, value: unknown, context?: { source?: string }): unknown {
  return key === 'ID' && typeof value === 'number' && context?.source ? context.source : value
}

export function receivePostmark(settings: Extract<ProviderSettings, { provider: 'postmark' }>, rawBody: string, headers: Headers): WebhookOutcome {
  checkCredentials(settings, headers.get('authorization'))
  const body = obj(parseJson(rawBody, 'body', exactIds))
  if (!body) throw malformed('body is not a Postmark event', 'body')
  const event = postmarkEvent(body)
  return { kind: 'events', events: event ? [event] : [] }
}

function postmarkEvent(b: Json): ProviderEvent | null {
  const record = required(b.RecordType, 'RecordType')
  const common = { provider: 'postmark' as const, messageId: ourMessageId(obj(b.Metadata)?.edp_message_id), rfc822MessageIds: [] }
  const messageKey = () => required(b.MessageID, 'MessageID')
  const recipient = () => recipientOf(b.Recipient, 'Recipient')

  if (record === 'Bounce' || record === 'SpamComplaint') {
    const meaning = BOUNCE_TYPES[record === 'SpamComplaint' ? 'SpamComplaint' : required(b.Type, 'Type')]
    if (!meaning) return null
    const base = {
      ...common,
      eventId: eventKey(record, required(b.ID, 'ID')),
      type: meaning.type,
      occurredAt: isoOf(b.BouncedAt, 'BouncedAt'),
      recipient: recipientOf(b.Email, 'Email'),
    }
    if (meaning.type === 'complained') return { ...base, complaint: { feedbackType: null } }
    if (meaning.type !== 'bounced' && meaning.type !== 'delayed') return base
    // Description is Postmark's fixed text for the Type ("ex: unknown user, mailbox not found"): only Details is the receiver's.
    const details = str(b.Details) ?? ''
    const status = statusOf(null, details)
    const fromText = reasonOf(status, details)
    const reason = fromText === 'undetermined' ? meaning.fallback : fromText
    return { ...base, bounce: bounceDetail(reason, status, details || (str(b.Description) ?? ''), meaning.soft ? 'soft' : undefined) }
  }
  if (record === 'Delivery') {
    const to = recipient()
    return { ...common, eventId: eventKey(record, messageKey(), to), type: 'delivered', occurredAt: isoOf(b.DeliveredAt, 'DeliveredAt'), recipient: to }
  }
  if (record === 'Open' || record === 'Click') {
    const to = recipient()
    const at = required(b.ReceivedAt, 'ReceivedAt')
    const parts = record === 'Click' ? [messageKey(), to, at, str(b.OriginalLink) ?? ''] : [messageKey(), to, at]
    return { ...common, eventId: eventKey(record, ...parts), type: record === 'Open' ? 'opened' : 'clicked', occurredAt: isoOf(at, 'ReceivedAt'), recipient: to }
  }
  if (record === 'SubscriptionChange') {
    // A bounce or complaint suppression arrives as its own Bounce or SpamComplaint record; a reactivation counts nowhere.
    if (b.SuppressSending !== true || str(b.SuppressionReason) !== 'ManualSuppression') return null
    const to = recipient()
    const at = required(b.ChangedAt, 'ChangedAt')
    return { ...common, eventId: eventKey(record, messageKey(), to, at), type: 'unsubscribed', occurredAt: isoOf(at, 'ChangedAt'), recipient: to }
  }
  return null
}
