/**
 * Amazon SES notifications delivered as mail (an SNS email or email-json subscription): the body
 * is the notification's JSON, or the SNS envelope whose `Message` holds it. Field names follow
 * the SES notification contents documentation (notificationType, or eventType for event
 * publishing; bounce.bouncedRecipients, complaint.complainedRecipients, mail.commonHeaders).
 */
import { messageIds } from './parse.ts'
import type { BounceReason } from './reasons.ts'

/**
 * A named bounceSubType is SES's own verdict (its status codes for them are generic); General and
 * Undetermined say nothing. Shared by mail (src/inbound/classify.ts) and the webhook (src/webhooks/ses.ts).
 */
export const SES_SUBTYPE_REASONS: Record<string, BounceReason> = {
  noemail: 'user_unknown',
  suppressed: 'user_unknown', // SES's global list holds addresses that hard-bounced
  onaccountsuppressionlist: 'policy', // the sender's own list: nothing said about the address
  mailboxfull: 'mailbox_full',
  messagetoolarge: 'too_large',
  contentrejected: 'spam_detected',
  attachmentrejected: 'filtered',
}

export interface SesRecipient {
  recipient: string
  status: string | null
  diagnostic: string
}

export interface SesNotification {
  kind: 'bounce' | 'complaint' | 'delivery' | 'delay'
  recipients: SesRecipient[]
  /** bounceType/bounceSubType for a bounce, complaintFeedbackType for a complaint. */
  type: string | null
  subType: string | null
  originalMessageIds: string[]
}

/** Bodies beyond this are not notifications; parsing them would only cost. */
const MAX_JSON = 256 * 1024

type Json = Record<string, unknown>
const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Json => x !== null) : [])

function parseJson(text: string): Json | null {
  try {
    return obj(JSON.parse(text))
  } catch {
    return null
  }
}

export function sesNotification(text: string | null): SesNotification | null {
  const body = text?.trim()
  if (!body || body.length > MAX_JSON || body[0] !== '{' || !/"(notificationType|eventType|Message)"/.test(body)) return null
  let n = parseJson(body)
  const envelope = str(n?.Message)
  if (envelope) n = parseJson(envelope)
  if (!n) return null
  const type = (str(n.notificationType) ?? str(n.eventType))?.toLowerCase()
  const mail = obj(n.mail)
  const headerIds = list(mail?.headers)
    .filter((h) => str(h.name)?.toLowerCase() === 'message-id')
    .flatMap((h) => messageIds(str(h.value)))
  const originalMessageIds = [...headerIds, ...messageIds(str(obj(mail?.commonHeaders)?.messageId))]
  if (type === 'bounce') {
    const b = obj(n.bounce)
    return {
      kind: 'bounce',
      recipients: list(b?.bouncedRecipients).map((r) => ({
        recipient: str(r.emailAddress) ?? '',
        status: str(r.status),
        diagnostic: str(r.diagnosticCode) ?? '',
      })),
      type: str(b?.bounceType),
      subType: str(b?.bounceSubType),
      originalMessageIds,
    }
  }
  if (type === 'complaint') {
    const c = obj(n.complaint)
    return {
      kind: 'complaint',
      recipients: list(c?.complainedRecipients).map((r) => ({ recipient: str(r.emailAddress) ?? '', status: null, diagnostic: '' })),
      type: str(c?.complaintFeedbackType) ?? 'abuse',
      subType: str(c?.complaintSubType),
      originalMessageIds,
    }
  }
  if (type === 'delivery' || type === 'deliverydelay') {
    const d = obj(n.delivery) ?? obj(n.deliveryDelay)
    const names = type === 'delivery' ? (d?.recipients ?? []) : list(d?.delayedRecipients).map((r) => r.emailAddress)
    return {
      kind: type === 'delivery' ? 'delivery' : 'delay',
      recipients: (Array.isArray(names) ? names : []).map((r) => ({ recipient: str(r) ?? '', status: null, diagnostic: str(d?.smtpResponse) ?? '' })),
      type: str(d?.delayType),
      subType: null,
      originalMessageIds,
    }
  }
  return null
}
