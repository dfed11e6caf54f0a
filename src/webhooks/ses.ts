/**
 * Amazon SES events delivered through an SNS HTTP(S) subscription: sns.ts checks the envelope,
 * whose Message is the SES notification JSON. Bounces, complaints, deliveries and delays are
 * read by src/inbound/ses.ts, the same reader that handles those notifications when they arrive
 * as mail; this file adds what a webhook needs beyond it (event times, the edp_message_id tag,
 * complaintFeedbackType as sent, per-recipient delay statuses, opens and clicks). Field names
 * follow the SES notification contents and event publishing docs (notificationType or
 * eventType; bounce.bounceSubType, deliveryDelay.delayedRecipients, mail.destination, mail.tags).
 */
import { reasonOf, type BounceReason } from '../inbound/reasons.ts'
import { SES_SUBTYPE_REASONS, sesNotification, type SesRecipient } from '../inbound/ses.ts'
import { bounceDetail, bracketIds, eventKey, isoOf, list, malformed, obj, ourMessageId, parseJson, recipientOf, statusOf, str, type Json } from './common.ts'
import { verifySns } from './sns.ts'
import type { BounceDetail, ProviderEvent, ProviderSettings, VerifyContext, WebhookOutcome } from './types.ts'

/** deliveryDelay.delayType, for when the recipient's diagnostic says nothing. */
const BY_DELAY_TYPE: Record<string, BounceReason> = {
  mailboxfull: 'mailbox_full',
  spamdetected: 'spam_detected',
  recipientservererror: 'system',
  internalfailure: 'system',
  ipfailure: 'blocked',
  transientcommunicationfailure: 'network',
  sendingdeferral: 'rate_limited',
}

export async function receiveSes(settings: Extract<ProviderSettings, { provider: 'ses' }>, rawBody: string, ctx: VerifyContext): Promise<WebhookOutcome> {
  const sns = await verifySns(rawBody, settings.topic_arns, ctx)
  if (sns.type === 'SubscriptionConfirmation') return { kind: 'subscription', topicArn: sns.topicArn, subscribeUrl: sns.subscribeUrl! }
  if (sns.type === 'UnsubscribeConfirmation') return { kind: 'events', events: [] }
  return { kind: 'events', events: sesEvents(sns.messageId, sns.message, sns.timestamp) }
}

function bounceOf(bounceType: string, subType: string, r: SesRecipient): BounceDetail {
  const status = statusOf(r.status, r.diagnostic)
  const fromText = reasonOf(status, r.diagnostic)
  const sub = subType.toLowerCase()
  const reason = SES_SUBTYPE_REASONS[sub] ?? fromText
  // A Transient or Undetermined bounce is soft whatever its text says: SES itself says the address may work.
  return bounceDetail(reason, status, r.diagnostic, bounceType.toLowerCase() === 'permanent' ? undefined : 'soft')
}

function delayOf(delayType: string | null, r: Json | undefined): BounceDetail {
  const diagnostic = str(r?.diagnosticCode) ?? ''
  const status = statusOf(str(r?.status), diagnostic)
  const fromText = reasonOf(status, diagnostic)
  const reason = fromText === 'undetermined' ? (BY_DELAY_TYPE[(delayType ?? '').toLowerCase()] ?? fromText) : fromText
  return bounceDetail(reason, status, diagnostic, 'soft')
}

type Entry = Pick<ProviderEvent, 'type' | 'bounce' | 'complaint'> & { recipient: string }

/** Bounce, Complaint, Delivery, DeliveryDelay: what src/inbound/ses.ts reads, plus the details it leaves out. */
function reported(message: string, detail: Json | null): { entries: Entry[]; ids: string[] } {
  const n = sesNotification(message)
  if (!n) throw malformed('Message is not a SES notification', 'Message')
  const delayed = list(detail?.delayedRecipients)
  const entries = n.recipients.map((r, i): Entry => {
    if (n.kind === 'bounce') return { recipient: r.recipient, type: 'bounced', bounce: bounceOf(n.type ?? '', n.subType ?? '', r) }
    if (n.kind === 'complaint') return { recipient: r.recipient, type: 'complained', complaint: { feedbackType: str(detail?.complaintFeedbackType) } }
    if (n.kind === 'delay') return { recipient: r.recipient, type: 'delayed', bounce: delayOf(str(detail?.delayType), delayed[i]) }
    return { recipient: r.recipient, type: 'delivered' }
  })
  return { entries, ids: n.originalMessageIds }
}

/** Open and Click (event publishing only). SES does not say which recipient opened: each destination gets the event. */
function engaged(kind: 'open' | 'click', mail: Json | null): { entries: Entry[]; ids: string[] } {
  const headerIds = list(mail?.headers).filter((h) => str(h.name)?.toLowerCase() === 'message-id').map((h) => str(h.value))
  const destination: unknown[] = Array.isArray(mail?.destination) ? mail.destination : []
  return {
    entries: destination.map((d): Entry => ({ recipient: str(d) ?? '', type: kind === 'open' ? 'opened' : 'clicked' })),
    ids: bracketIds(...headerIds, str(obj(mail?.commonHeaders)?.messageId)),
  }
}

const REPORTED = new Set(['bounce', 'complaint', 'delivery', 'deliverydelay'])

function sesEvents(snsMessageId: string, message: string, snsTimestamp: string): ProviderEvent[] {
  const n = obj(parseJson(message, 'Message'))
  if (!n) throw malformed('Message is not a SES notification', 'Message')
  const kind = (str(n.notificationType) ?? str(n.eventType) ?? '').toLowerCase()
  const mail = obj(n.mail)
  const detail = obj(n[kind === 'deliverydelay' ? 'deliveryDelay' : kind])
  // Send, Reject, Rendering Failure, Subscription and SES's own test notification: nothing the platform counts.
  if (!REPORTED.has(kind) && kind !== 'open' && kind !== 'click') return []
  const { entries, ids } = kind === 'open' || kind === 'click' ? engaged(kind, mail) : reported(message, detail)
  if (entries.length === 0) throw malformed(`the ${kind} notification names no recipient`, `${kind}.recipients`)
  const occurredAt = isoOf(str(detail?.timestamp) ?? str(mail?.timestamp) ?? snsTimestamp, `${kind}.timestamp`)
  const messageId = ourMessageId(obj(mail?.tags)?.edp_message_id)
  return entries.map(({ recipient, ...e }, i) => ({
    provider: 'ses',
    // One notification can name several recipients; each is its own event.
    eventId: entries.length > 1 ? eventKey(snsMessageId, String(i)) : eventKey(snsMessageId),
    ...e,
    occurredAt,
    recipient: recipientOf(recipient, `${kind}.recipients.${i}`),
    messageId,
    rfc822MessageIds: [...new Set(ids)],
  }))
}
