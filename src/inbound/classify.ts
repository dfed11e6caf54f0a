/**
 * What an inbound message is: a bounce (RFC 3464 delivery report, or one of the common
 * non-standard failure notices), an automatic reply (RFC 3834 and the usual vendor headers and
 * vacation subjects), or an email from a person. Mailing-list traffic is never an auto-reply.
 */
import { header, messageIds, type ParsedMail } from './parse.ts'

export interface Bounce {
  recipient: string | null
  /** Enhanced status code (e.g. 5.1.1), or the SMTP reply code when that is all there is. */
  status: string | null
  kind: 'hard' | 'soft'
  /** The Message-ID of the message that bounced, as quoted in the report. */
  originalMessageId: string | null
}

export type Classification = { type: 'email' } | { type: 'auto_reply' } | { type: 'bounce'; bounce: Bounce }

const BOUNCE_FROM = /mailer-daemon|postmaster|mail delivery (subsystem|system)/i
const BOUNCE_SUBJECT =
  /undeliver(able|ed)|delivery status notification \(failure\)|mail delivery failed|returned mail|delivery failure|failure notice|could not be delivered|non[- ]?delivery/i
const AUTO_SUBJECT =
  /^\s*(auto(matic)?[ -]?(reply|response|antwort)|autoreply|out of (the )?office|ooo\b|away from (the )?office|on vacation|vacation reply|abwesenheitsnotiz|r[ée]ponse automatique|auto:)/i
const AUTO_BODY = /\b(i am|i'm|i will be) (currently )?(out of (the )?office|on (annual )?leave|on vacation|away)\b/i
const SOFT_WORDS = /mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage|try again later|temporar/i

function isList(m: ParsedMail): boolean {
  const precedence = header(m, 'precedence')?.trim().toLowerCase()
  return header(m, 'list-id') !== undefined || precedence === 'list' || precedence === 'bulk'
}

function isAutoReply(m: ParsedMail): boolean {
  const submitted = header(m, 'auto-submitted')?.trim().toLowerCase()
  if (submitted && submitted !== 'no') return true
  if (header(m, 'x-autoreply') !== undefined || header(m, 'x-autorespond') !== undefined) return true
  if (header(m, 'precedence')?.trim().toLowerCase() === 'auto_reply') return true
  return AUTO_SUBJECT.test(m.subject) || AUTO_BODY.test(m.text ?? '')
}

/** Fields of an RFC 3464 per-recipient block, lower-cased names. */
function dsnFields(status: string): Map<string, string>[] {
  return status
    .split(/\r?\n\s*\r?\n/)
    .map((block) => {
      const fields = new Map<string, string>()
      for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
        const i = line.indexOf(':')
        if (i > 0) fields.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim())
      }
      return fields
    })
    .filter((f) => f.has('final-recipient') || f.has('original-recipient') || f.has('status'))
}

const stripType = (v: string | undefined) => v?.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim() || null

function kindOf(status: string | null, text: string): 'hard' | 'soft' {
  // 4.x.x is transient; 5.2.2 (mailbox full) is permanent on paper but clears by itself.
  if (status?.startsWith('4') || status === '5.2.2' || status === '552') return 'soft'
  if (!status && SOFT_WORDS.test(text)) return 'soft'
  if (SOFT_WORDS.test(text) && !/user unknown|no such user|does not exist|invalid recipient|address rejected/i.test(text)) return 'soft'
  return 'hard'
}

function bounceOf(m: ParsedMail): Bounce {
  const body = `${m.text ?? ''}\n${m.deliveryStatus ?? ''}`
  const original =
    messageIds(/^message-id:\s*(.*)$/im.exec(m.returnedHeaders ?? '')?.[1])[0] ??
    messageIds(/^message-id:\s*(.*)$/im.exec(m.text ?? '')?.[1])[0] ??
    m.inReplyTo ??
    m.references.at(-1) ??
    null
  const block = m.deliveryStatus ? (dsnFields(m.deliveryStatus).find((f) => f.get('action')?.toLowerCase() !== 'delivered') ?? null) : null
  if (block) {
    const status = /\d\.\d{1,3}\.\d{1,3}/.exec(block.get('status') ?? '')?.[0] ?? null
    const recipient = stripType(block.get('final-recipient')) ?? stripType(block.get('original-recipient'))
    const diagnostic = block.get('diagnostic-code') ?? ''
    return { recipient, status, kind: kindOf(status, `${diagnostic}\n${body}`), originalMessageId: original }
  }
  const status = /\b[45]\.\d{1,3}\.\d{1,3}\b/.exec(body)?.[0] ?? /\b[45]\d\d\b(?=[ :-])/.exec(body)?.[0] ?? null
  const ownAddress = m.from.toLowerCase()
  const recipient =
    [...body.matchAll(/<?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?/g)].map((x) => x[1]!).find((a) => a.toLowerCase() !== ownAddress) ?? null
  return { recipient, status, kind: kindOf(status, body), originalMessageId: original }
}

export function classify(m: ParsedMail): Classification {
  const contentType = header(m, 'content-type') ?? ''
  const isReport = /multipart\/report/i.test(contentType) && /report-type\s*=\s*"?delivery-status/i.test(contentType)
  if (isReport || m.deliveryStatus || (BOUNCE_FROM.test(m.from) && BOUNCE_SUBJECT.test(m.subject))) {
    return { type: 'bounce', bounce: bounceOf(m) }
  }
  if (!isList(m) && isAutoReply(m)) return { type: 'auto_reply' }
  return { type: 'email' }
}
