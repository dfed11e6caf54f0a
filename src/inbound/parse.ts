/**
 * Raw RFC 5322 → the parts we store and classify, through postal-mime (see the README for why
 * that library). Limits bound what hostile input can cost: MIME nesting, header size and how deep
 * attached messages are opened. A message the parser cannot read is a validation error, never a server fault.
 */
import PostalMime, { type Address, type Email } from 'postal-mime'
import { invalid } from '../errors.ts'

export interface ParsedPart {
  filename: string
  mimeType: string
  disposition: 'attachment' | 'inline'
  bytes: Uint8Array
}

export interface ParsedMail {
  /** Every header in order, duplicates kept, as decoded by the parser. */
  headers: { name: string; value: string }[]
  from: string
  /** The sender's display name: a null-sender report (`MAILER-DAEMON <>`) has only this. */
  fromName: string
  recipients: string[]
  subject: string
  messageId: string | null
  inReplyTo: string | null
  references: string[]
  text: string | null
  html: string | null
  attachments: ParsedPart[]
  /** The text of any message/delivery-status part (RFC 3464). */
  deliveryStatus: string | null
  /** The header block of the returned message in a bounce (message/rfc822 or text/rfc822-headers). */
  returnedHeaders: string | null
  /** The text of a message/feedback-report part (RFC 5965, a complaint). */
  feedbackReport: string | null
  /**
   * The start of the first attached message, raw: a bounce forwarded as an attachment carries
   * its report there, and a report quoting the whole original carries that original's headers.
   */
  attachedText: string | null
}

const LIMITS = { maxNestingDepth: 32, maxHeadersSize: 256 * 1024, maxRfc822NestingDepth: 3 }

/** How much of an attached message classification reads: its report, never a whole attached file. */
const ATTACHED_TEXT_MAX = 64 * 1024

const MESSAGE_ID = /<[^<>\s]+>/g

export const messageIds = (value: string | undefined | null): string[] => (value ? (value.match(MESSAGE_ID) ?? []) : [])

function addresses(list: Address[] | undefined): string[] {
  return (list ?? []).flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address])).filter(Boolean)
}

const toBytes = (content: ArrayBuffer | Uint8Array | string) =>
  typeof content === 'string' ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content)

const asText = (content: ArrayBuffer | Uint8Array | string) =>
  typeof content === 'string' ? content : new TextDecoder('utf-8', { fatal: false }).decode(toBytes(content))

export async function parseMail(raw: Uint8Array): Promise<ParsedMail> {
  let email: Email
  try {
    email = await PostalMime.parse(raw, { ...LIMITS, rfc822Attachments: true, attachmentEncoding: 'arraybuffer' })
  } catch (err) {
    throw invalid(`the message could not be parsed: ${(err as Error).message}`, '(body)', 'not a readable RFC 5322 message')
  }
  const from = email.from && !email.from.group ? email.from.address : ''
  let deliveryStatus: string | null = null
  let returnedHeaders: string | null = null
  let feedbackReport: string | null = null
  let attachedText: string | null = null
  const attachments: ParsedPart[] = []
  for (const a of email.attachments) {
    const type = a.mimeType.toLowerCase()
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') deliveryStatus ??= asText(a.content)
    if (type === 'message/feedback-report') feedbackReport ??= asText(a.content)
    if (type === 'text/rfc822-headers' || type === 'message/rfc822' || type === 'message/global') {
      const start = asText(toBytes(a.content).subarray(0, ATTACHED_TEXT_MAX))
      returnedHeaders ??= start.split(/\r?\n\r?\n/, 1)[0] ?? null
      if (type !== 'text/rfc822-headers') attachedText ??= start
    }
    attachments.push({
      filename: a.filename ?? `part-${attachments.length + 1}`,
      mimeType: type,
      disposition: a.disposition === 'inline' || a.related ? 'inline' : 'attachment',
      bytes: toBytes(a.content),
    })
  }
  return {
    headers: email.headers.map((h) => ({ name: h.originalKey ?? h.key, value: h.value })),
    from,
    fromName: email.from?.name ?? '',
    recipients: [...addresses(email.to), ...addresses(email.cc), ...(email.deliveredTo ? [email.deliveredTo] : [])],
    subject: email.subject ?? '',
    messageId: messageIds(email.messageId)[0] ?? null,
    inReplyTo: messageIds(email.inReplyTo)[0] ?? null,
    references: messageIds(email.references),
    text: email.text ?? null,
    html: email.html ?? null,
    attachments,
    deliveryStatus,
    returnedHeaders,
    feedbackReport,
    attachedText,
  }
}

export const header = (m: Pick<ParsedMail, 'headers'>, name: string): string | undefined =>
  m.headers.find((h) => h.name.toLowerCase() === name)?.value
