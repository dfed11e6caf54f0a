/**
 * Mailgun webhooks: one JSON object per POST, `signature` {timestamp, token, signature} beside
 * `event-data`. The signature is the hex HMAC-SHA256 of timestamp + token under the webhook
 * signing key. It does not cover event-data, so the replay window is what stops a captured
 * signature being reused with another event. Field names follow Mailgun's webhook and events
 * docs: event-data.id, event (delivered, failed, complained, opened, clicked, unsubscribed),
 * severity (permanent or temporary), reason, recipient, timestamp (unix seconds, a float),
 * message.headers["message-id"] (without brackets), delivery-status {code, message,
 * description, enhanced-code}, user-variables.
 */
import { createHmac } from 'node:crypto'
import { reasonOf, type BounceReason } from '../inbound/reasons.ts'
import {
  bounceDetail,
  bracketIds,
  checkFresh,
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

function checkSignature(signingKey: string, signature: Json | null, now: number): void {
  const timestamp = str(signature?.timestamp) ?? (typeof signature?.timestamp === 'number' ? String(signature.timestamp) : null)
  const token = str(signature?.token)
  const given = str(signature?.signature)?.trim().toLowerCase()
  if (!timestamp || !token || !given) throw unauthenticated('missing Mailgun signature')
  if (!signingKey) throw unauthenticated('no Mailgun signing key is configured')
  checkFresh(timestamp, now)
  const expected = createHmac('sha256', signingKey).update(timestamp + token, 'utf8').digest('hex')
  if (!sameBytes(Buffer.from(given, 'utf8'), Buffer.from(expected, 'utf8'))) throw unauthenticated('the Mailgun signature does not match')
}

const TYPES: Record<string, EventType> = {
  delivered: 'delivered',
  complained: 'complained',
  opened: 'opened',
  clicked: 'clicked',
  unsubscribed: 'unsubscribed',
}

/** failed.reason values that name the reason when the delivery status says nothing. */
const BY_MAILGUN_REASON: Record<string, BounceReason> = {
  'suppress-bounce': 'user_unknown', // not sent: the address hard-bounced before
  'esp-block': 'blocked',
}

/** Not sent because of an earlier unsubscribe or complaint: already counted when it happened. */
const NOT_A_BOUNCE = new Set(['suppress-unsubscribe', 'suppress-complaint'])

/** A permanent failure with a transient (4.x.x) status, or reason "old", is one Mailgun stopped retrying. */
const GAVE_UP: ReadonlySet<BounceReason> = new Set(['network', 'system', 'undetermined', 'rate_limited'])

export function receiveMailgun(settings: Extract<ProviderSettings, { provider: 'mailgun' }>, rawBody: string, now: number): WebhookOutcome {
  const body = obj(parseJson(rawBody))
  if (!body) throw malformed('body is not a Mailgun webhook', 'body')
  checkSignature(settings.signing_key, obj(body.signature), now)
  const data = obj(body['event-data'])
  if (!data) throw malformed('event-data is missing', 'event-data')
  const event = mailgunEvent(data)
  return { kind: 'events', events: event ? [event] : [] }
}

function failure(data: Json, permanent: boolean): ProviderEvent['bounce'] | null {
  const mailgunReason = str(data.reason) ?? ''
  if (NOT_A_BOUNCE.has(mailgunReason)) return null
  const ds = obj(data['delivery-status'])
  const texts = [str(ds?.message), str(ds?.description)].filter((t): t is string => !!t)
  const status = statusOf(str(ds?.['enhanced-code']), ...texts)
  const fromText = reasonOf(status, ...texts)
  let reason = fromText === 'undetermined' ? (BY_MAILGUN_REASON[mailgunReason] ?? fromText) : fromText
  if (permanent && (mailgunReason === 'old' || status?.startsWith('4')) && GAVE_UP.has(reason)) reason = 'expired'
  const code = typeof ds?.code === 'number' && ds.code > 0 ? `${ds.code} ` : ''
  return bounceDetail(reason, status, `${code}${texts.join(' ')}`, permanent ? undefined : 'soft')
}

function mailgunEvent(data: Json): ProviderEvent | null {
  const event = str(data.event) ?? ''
  let type = TYPES[event]
  let bounce: ProviderEvent['bounce'] | null = null
  if (event === 'failed') {
    const permanent = str(data.severity) === 'permanent'
    bounce = failure(data, permanent)
    if (!bounce) return null
    type = permanent ? 'bounced' : 'delayed'
  }
  if (!type) return null // accepted, rejected, stored, list events
  const headers = obj(obj(data.message)?.headers)
  return {
    provider: 'mailgun',
    eventId: eventKey(required(data.id, 'event-data.id')),
    type,
    occurredAt: isoOf(data.timestamp, 'event-data.timestamp'),
    recipient: recipientOf(data.recipient, 'event-data.recipient'),
    messageId: ourMessageId(obj(data['user-variables'])?.edp_message_id),
    rfc822MessageIds: bracketIds(str(headers?.['message-id'])),
    ...(bounce ? { bounce } : {}),
    ...(type === 'complained' ? { complaint: { feedbackType: null } } : {}),
  }
}
