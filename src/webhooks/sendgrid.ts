/**
 * SendGrid's signed Event Webhook. The body is a JSON array of events; the
 * X-Twilio-Email-Event-Webhook-Signature header is a base64 DER ECDSA signature (P-256, SHA-256)
 * over the X-Twilio-Email-Event-Webhook-Timestamp header's value followed by the raw body, made
 * with the key pair whose public half SendGrid shows as base64 DER (SubjectPublicKeyInfo). Field
 * names follow SendGrid's Event Webhook reference: sg_event_id, event, email, timestamp (unix
 * seconds), smtp-id, status, reason, response, type (bounce or blocked), bounce_classification,
 * and custom args at the top level of each event.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { kindOf, reasonOf, type BounceReason } from '../inbound/reasons.ts'
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
  statusOf,
  str,
  unauthenticated,
  type Json,
} from './common.ts'
import type { EventType, ProviderEvent, ProviderSettings, WebhookOutcome } from './types.ts'

export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature'
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp'

function publicKey(configured: string): KeyObject {
  try {
    const key = configured.trim()
    const parsed = key.startsWith('-----')
      ? createPublicKey(key)
      : createPublicKey({ key: Buffer.from(key.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' })
    if (parsed.asymmetricKeyType === 'ec') return parsed
  } catch {
    // the same answer as a key of the wrong type, below
  }
  throw unauthenticated('the configured SendGrid verification key is not an EC public key')
}

export function receiveSendgrid(settings: Extract<ProviderSettings, { provider: 'sendgrid' }>, rawBody: string, headers: Headers, now: number): WebhookOutcome {
  const signature = headers.get(SIGNATURE_HEADER)?.trim()
  const timestamp = headers.get(TIMESTAMP_HEADER)?.trim()
  if (!signature || !timestamp) throw unauthenticated('missing SendGrid signature headers')
  checkFresh(timestamp, now)
  const key = publicKey(settings.public_key)
  let ok = false
  try {
    ok = verify('sha256', Buffer.from(timestamp + rawBody, 'utf8'), key, Buffer.from(signature, 'base64'))
  } catch {
    ok = false // a signature that is not DER at all
  }
  if (!ok) throw unauthenticated('the SendGrid signature does not match')

  const body = parseJson(rawBody)
  if (!Array.isArray(body)) throw malformed('body is not an array of SendGrid events', 'body')
  return { kind: 'events', events: body.flatMap((e, i) => sendgridEvent(obj(e), String(i)) ?? []) }
}

const TYPES: Record<string, EventType> = {
  delivered: 'delivered',
  bounce: 'bounced',
  blocked: 'bounced',
  dropped: 'bounced',
  deferred: 'delayed',
  open: 'opened',
  click: 'clicked',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
}

/**
 * bounce_classification is SendGrid's own verdict: it names the family, the text may name the
 * member (a "Mailbox Unavailable" that says "mailbox full" is mailbox_full); otherwise the family's own reason.
 */
const CLASSIFICATION: [RegExp, BounceReason, BounceReason[]][] = [
  [/^invalid address/i, 'user_unknown', ['user_unknown', 'host_unknown', 'has_moved', 'not_accepting']],
  [/^mailbox unavailable/i, 'mailbox_disabled', ['mailbox_disabled', 'mailbox_full', 'too_large']],
  [/^reputation/i, 'blocked', ['blocked', 'auth_failure']],
  [/^content/i, 'spam_detected', ['spam_detected', 'filtered', 'too_large']],
  [/^frequency or volume/i, 'rate_limited', ['rate_limited']],
  [/^technical/i, 'system', ['system', 'network', 'host_unknown', 'expired', 'auth_failure', 'too_large']],
]

function classified(classification: string | null, fromText: BounceReason): BounceReason {
  const found = classification ? CLASSIFICATION.find(([re]) => re.test(classification.trim())) : undefined
  if (!found) return fromText // absent or "Unclassified"
  const [, reason, family] = found
  return family.includes(fromText) ? fromText : reason
}

/** A dropped event is a bounce only when SendGrid dropped it because the address is bad. */
function droppedReason(reason: string): BounceReason | null {
  if (/^\s*(bounced address|invalid)\s*$/i.test(reason)) return 'user_unknown'
  const r = reasonOf(null, reason)
  return kindOf(r, null) === 'hard' ? r : null
}

function sendgridEvent(e: Json | null, at: string): ProviderEvent | null {
  if (!e) throw malformed('an event is not an object', at)
  const event = str(e.event) ?? ''
  const type = TYPES[event]
  if (!type) return null // processed, group_resubscribe and whatever SendGrid adds later
  const text = str(e.reason) ?? ''
  let bounce: ProviderEvent['bounce']
  if (event === 'dropped') {
    const reason = droppedReason(text)
    if (!reason) return null // unsubscribed, spam-reporting or over-quota: nothing about the address
    bounce = bounceDetail(reason, null, text)
  } else if (event === 'bounce' || event === 'blocked') {
    const status = statusOf(str(e.status), text)
    const blocked = event === 'blocked' || str(e.type) === 'blocked'
    let reason = classified(str(e.bounce_classification), reasonOf(status, text))
    if (blocked && reason === 'undetermined') reason = 'blocked'
    // SendGrid keeps mailing a blocked address: the receiver refused this message, not the mailbox.
    bounce = bounceDetail(reason, status, text, blocked ? 'soft' : undefined)
  } else if (event === 'deferred') {
    const response = str(e.response) ?? text
    const status = statusOf(null, response)
    bounce = bounceDetail(reasonOf(status, response), status, response, 'soft')
  }
  return {
    provider: 'sendgrid',
    eventId: eventKey(required(e.sg_event_id, `${at}.sg_event_id`)),
    type,
    occurredAt: isoOf(e.timestamp, `${at}.timestamp`),
    recipient: recipientOf(e.email, `${at}.email`),
    messageId: ourMessageId(e.edp_message_id),
    rfc822MessageIds: bracketIds(str(e['smtp-id'])),
    ...(bounce ? { bounce } : {}),
    ...(type === 'complained' ? { complaint: { feedbackType: null } } : {}),
  }
}
