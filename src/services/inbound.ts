/**
 * Inbound mail: parse, classify, find the mailbox and the conversation, and store it through the
 * write path with direction = inbound. A reply, auto-reply or bounce of one of our outbound
 * messages carries that meaning into its message.created job, so the analytics fact commits with
 * the ref; a bounce also marks the outbound message bounced.
 */
import { headerSafe } from '../content-safety.ts'
import type { Deps } from '../deps.ts'
import { AppError, invalid, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { classify, quotedIds, type Classification } from '../inbound/classify.ts'
import { parseMail, type ParsedMail } from '../inbound/parse.ts'
import { emailAccountExists, findEmailAccountsByAddress } from '../tiers/oltp/email-accounts.ts'
import { findByRfc822Ids, type MessageRefRow } from '../tiers/oltp/messages.ts'
import { writeMessage, type Answer, type AnswerDetail } from './message-write.ts'

export { BOUNCE_REASONS } from '../inbound/reasons.ts'
export type { Bounce, Classification } from '../inbound/classify.ts'

/** PostgreSQL text cannot hold U+0000, which hostile mail can carry in any decoded field. */
const clean = (s: string, max = Number.POSITIVE_INFINITY) => s.replaceAll('\u0000', '\uFFFD').slice(0, max)

/** The event an inbound message puts on the outbound message it answers; a delay puts none. */
const ANSWER = {
  email: 'replied',
  auto_reply: 'auto_replied',
  bounce: 'bounced',
  complaint: 'complained',
  delivery_report: 'delivered',
  delivery_delay: null,
} as const

/** What travels into the event's metadata: why it bounced, or who complained. */
function detailOf(c: Classification): AnswerDetail | undefined {
  if (c.type === 'bounce') {
    const { reason, status, recipient, recipients } = c.bounce
    const clip = (a: string) => a.slice(0, 254)
    return {
      reason,
      status: status?.slice(0, 32) ?? null,
      recipient: recipient && clip(recipient),
      ...(recipients.length > 1 ? { recipients: recipients.slice(0, 50).map((r) => clip(r.recipient)) } : {}),
    }
  }
  if (c.type === 'complaint') return { recipient: c.complaint.recipient?.slice(0, 254) ?? null, feedback_type: c.complaint.feedbackType }
  return undefined
}

const originalOf = (c: Classification): string | null =>
  c.type === 'complaint' ? c.complaint.originalMessageId : 'bounce' in c ? c.bounce.originalMessageId : null

async function mailboxFor(deps: Deps, tenantId: string, mail: ParsedMail, explicit?: string) {
  if (explicit) {
    if (!(await emailAccountExists(deps.tiers.oltp, tenantId, explicit))) throw notFound('email account', 'email_account_id')
    return explicit
  }
  const [match] = await findEmailAccountsByAddress(deps.tiers.oltp, tenantId, mail.recipients)
  if (!match) {
    throw invalid('none of the recipients is one of your mailboxes', 'email_account_id', 'name the mailbox, or send to one of your addresses')
  }
  return match.id
}

export interface InboundResult {
  ref: MessageRefRow
  classification: Classification
  /** False when this Message-ID was already stored for the tenant (a redelivery): nothing new written. */
  created: boolean
}

export async function ingestInbound(
  deps: Deps,
  tenantId: string,
  raw: Uint8Array,
  opts: { emailAccountId?: string } = {},
): Promise<InboundResult> {
  const max = deps.config.INBOUND_MAX_BYTES
  if (raw.length > max) throw new AppError('payload_too_large', `the message exceeds ${max} bytes`)
  if (raw.length === 0) throw invalid('empty message', '(body)', 'empty')
  const mail = await parseMail(raw)
  const classification = classify(mail)
  const emailAccountId = await mailboxFor(deps, tenantId, mail, opts.emailAccountId)

  // Thread candidates, best first: the report's quoted original, In-Reply-To, then References
  // from the most recent back.
  const quoted = classification.type === 'email' || classification.type === 'auto_reply' ? [] : [originalOf(classification), ...quotedIds(mail).slice(0, 10)]
  const candidates = [
    ...new Set(quoted.filter((id): id is string => id !== null)),
    ...(mail.inReplyTo ? [mail.inReplyTo] : []),
    ...[...mail.references].reverse(),
  ]
  const known = await findByRfc822Ids(deps.tiers.oltp, tenantId, [...candidates, ...(mail.messageId ? [mail.messageId] : [])])
  // A redelivery found here costs no write; one racing this check is caught by the write path.
  const already = known.find((r) => r.rfc822_message_id === mail.messageId && r.direction === 'inbound')
  if (already) return { ref: already, classification, created: false }
  const parent = candidates.map((id) => known.find((r) => r.rfc822_message_id === id)).find(Boolean)

  // Every id below is the tenant's: the mailbox was just checked, the rest come from its parent's ref.
  const answer = ANSWER[classification.type]
  const answers: Answer | undefined =
    parent?.direction === 'outbound' && answer
      ? {
          original: parent,
          type: answer,
          bounce_type: classification.type === 'bounce' ? classification.bounce.kind : null,
          detail: detailOf(classification),
        }
      : undefined
  const { ref, created } = await writeMessage(
    deps,
    tenantId,
    {
      id: newId(),
      email_account_id: emailAccountId,
      campaign_id: parent?.campaign_id ?? null,
      sequence_step_id: parent?.sequence_step_id ?? null,
      lead_id: parent?.lead_id ?? null,
      parent_message_id: parent?.id ?? null,
      direction: 'inbound',
      message_type: classification.type,
      status: 'received',
      // Header-bound text: a CR or LF decoded from an encoded-word must not reach a header we write.
      from_email: headerSafe(mail.from).slice(0, 254),
      to_email: headerSafe(mail.recipients[0] ?? '').slice(0, 254),
      subject: headerSafe(mail.subject).slice(0, 500),
      content_text: mail.text === null ? null : clean(mail.text),
      content_html: mail.html === null ? null : clean(mail.html),
      headers: mail.headers.map((h) => ({ name: headerSafe(h.name).slice(0, 200), value: headerSafe(h.value) })),
      rfc822_message_id: mail.messageId ? clean(mail.messageId, 998) : null,
      // The write path makes names safe and stores malformed types as application/octet-stream.
      attachments: mail.attachments.map((a) => ({
        filename: a.filename,
        mime_type: a.mimeType,
        bytes: a.bytes,
        storage_disposition: a.disposition,
      })),
    },
    { answers },
  )
  return { ref, classification, created }
}
