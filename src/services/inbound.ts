/**
 * Inbound mail: parse, classify, find the mailbox and the conversation, and store it like any
 * message (content tier first, then the ref) with direction = inbound. A reply, auto-reply or
 * bounce of one of our outbound messages carries that meaning into its message.created event,
 * so the analytics fact commits with the ref; a bounce also marks the outbound message bounced.
 */
import type { Deps } from '../deps.ts'
import { ApiError, notFound } from '../http/errors.ts'
import { classify, type Classification } from '../inbound/classify.ts'
import { parseMail, type ParsedMail } from '../inbound/parse.ts'
import { emailAccountExists, findEmailAccountsByAddress } from '../tiers/oltp/email-accounts.ts'
import { findByRfc822Ids, type MessageRefRow } from '../tiers/oltp/messages.ts'
import { createMessage, type CreateMessageInput } from './messages.ts'

/** PostgreSQL text cannot hold U+0000, which hostile mail can carry in any decoded field. */
const clean = (s: string, max = Number.POSITIVE_INFINITY) => s.replaceAll('\u0000', '\uFFFD').slice(0, max)

const ANSWER = { email: 'replied', auto_reply: 'auto_replied', bounce: 'bounced' } as const

async function mailboxFor(deps: Deps, tenantId: string, mail: ParsedMail, explicit?: string) {
  if (explicit) {
    if (!(await emailAccountExists(deps.tiers.oltp, tenantId, explicit))) throw notFound('email account', 'email_account_id')
    return explicit
  }
  const [match] = await findEmailAccountsByAddress(deps.tiers.oltp, tenantId, mail.recipients)
  if (!match) {
    throw new ApiError('validation_failed', 'none of the recipients is one of your mailboxes', [
      { field: 'email_account_id', message: 'name the mailbox, or send to one of your addresses' },
    ])
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
  const mail = await parseMail(raw)
  const classification = classify(mail)
  const emailAccountId = await mailboxFor(deps, tenantId, mail, opts.emailAccountId)

  // Thread candidates, best first: the report's quoted original, In-Reply-To, then References
  // from the most recent back.
  const candidates = [
    ...(classification.type === 'bounce' && classification.bounce.originalMessageId ? [classification.bounce.originalMessageId] : []),
    ...(mail.inReplyTo ? [mail.inReplyTo] : []),
    ...[...mail.references].reverse(),
  ]
  const known = await findByRfc822Ids(deps.tiers.oltp, tenantId, [...candidates, ...(mail.messageId ? [mail.messageId] : [])])
  const already = known.find((r) => r.rfc822_message_id === mail.messageId && r.direction === 'inbound')
  if (already) return { ref: already, classification, created: false }
  const parent: MessageRefRow | undefined = candidates.map((id) => known.find((r) => r.rfc822_message_id === id)).find(Boolean)

  const input: CreateMessageInput = {
    email_account_id: emailAccountId,
    from_email: clean(mail.from, 254),
    to_email: clean(mail.recipients[0] ?? '', 254),
    subject: clean(mail.subject, 500),
    content_text: mail.text === null ? null : clean(mail.text),
    content_html: mail.html === null ? null : clean(mail.html),
    headers: mail.headers.map((h) => ({ name: clean(h.name, 200), value: clean(h.value) })),
    direction: 'inbound',
    message_type: classification.type,
    campaign_id: parent?.campaign_id ?? null,
    sequence_step_id: parent?.sequence_step_id ?? null,
    lead_id: parent?.lead_id ?? null,
    parent_message_id: parent?.id ?? null,
    rfc822_message_id: mail.messageId ? clean(mail.messageId, 998) : null,
    attachments: mail.attachments.map((a) => ({
      filename: clean(a.filename, 255),
      mime_type: clean(a.mimeType, 100),
      bytes: a.bytes,
      storage_disposition: a.disposition,
    })),
    answers:
      parent?.direction === 'outbound'
        ? {
            ref: parent,
            type: ANSWER[classification.type],
            bounce_type: classification.type === 'bounce' ? classification.bounce.kind : null,
          }
        : undefined,
  }
  return { ref: await createMessage(deps, tenantId, input), classification, created: true }
}
