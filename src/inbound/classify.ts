/**
 * What an inbound message is: a bounce, a delivery delay or a success report (RFC 3464 reports,
 * the common non-standard notices, Amazon SES notifications), a complaint (RFC 5965 feedback
 * reports, SES complaints), an automatic reply (RFC 3834 and the usual vendor headers and
 * vacation subjects), or an email from a person. Bounce evidence wins over Auto-Submitted: MTAs
 * mark their notices auto-replied too. Mailing-list traffic is never an auto-reply nor, without a
 * report part, a bounce.
 */
import { header, messageIds, type ParsedMail } from './parse.ts'
import { complaintOf, type Complaint } from './complaint.ts'
import { kindOf, reasonOf, type BounceReason } from './reasons.ts'
import { dsnEntries, reportSection, textEntries, type Entry } from './report.ts'
import { SES_SUBTYPE_REASONS, sesNotification, type SesNotification } from './ses.ts'
import { failureEvidence } from './evidence.ts'

export interface FailedRecipient {
  recipient: string
  /** Enhanced status code (e.g. 5.1.1), or the SMTP reply code when that is all there is. */
  status: string | null
  reason: BounceReason
  kind: 'hard' | 'soft'
}

export interface Bounce extends Omit<FailedRecipient, 'recipient'> {
  recipient: string | null
  /** The Message-ID of the message that bounced, as quoted in the report. */
  originalMessageId: string | null
  /** Every recipient the report names, the first one above. */
  recipients: FailedRecipient[]
}

export type Classification =
  | { type: 'email' }
  | { type: 'auto_reply' }
  | { type: 'bounce'; bounce: Bounce }
  /** Not a bounce: the MTA is still trying. Never counted as bounced, never marks the original. */
  | { type: 'delivery_delay'; bounce: Bounce }
  | { type: 'delivery_report'; bounce: Bounce }
  | { type: 'complaint'; complaint: Complaint }

export type { Complaint }

const AUTO_SUBJECT =
  /^\s*(auto(matic)?[ -]?(reply|response|antwort)|autoreply|out of (the )?office|ooo\b|away from (the )?office|on vacation|vacation reply|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[aá]tica|auto:)/i
const AUTO_BODY = /\b(i am|i'm|i will be) (currently )?(out of (the )?office|on (annual )?leave|on vacation|away)\b/i

function isList(m: ParsedMail): boolean {
  const precedence = header(m, 'precedence')?.trim().toLowerCase()
  return header(m, 'list-id') !== undefined || precedence === 'list' || precedence === 'bulk'
}

function isAutoReply(m: ParsedMail): boolean {
  const submitted = header(m, 'auto-submitted')?.trim().toLowerCase()
  if (submitted && submitted !== 'no') return true
  if (header(m, 'x-autoreply') !== undefined || header(m, 'x-autorespond') !== undefined) return true
  if (header(m, 'precedence')?.trim().toLowerCase() === 'auto_reply') return true
  return AUTO_SUBJECT.test(m.subject) || AUTO_BODY.test(m.text?.slice(0, 16 * 1024) ?? '')
}

const MESSAGE_ID_LINE = /^[ \t>]*(?:original-)?message-id:[ \t]*(<[^<>\s]+>)/gim

/** Message-IDs a report quotes, best first; never the report's own. */
export function quotedIds(m: ParsedMail, extra: string[] = []): string[] {
  const ids = [
    ...extra,
    ...messageIds(/^message-id:\s*(.*)$/im.exec(m.returnedHeaders ?? '')?.[1]),
    ...[...(m.text ?? '').slice(0, 64 * 1024).matchAll(MESSAGE_ID_LINE)].map((x) => x[1]!),
    ...[...(m.attachedText ?? '').matchAll(MESSAGE_ID_LINE)].map((x) => x[1]!),
  ]
  return [...new Set(ids)].filter((id) => id !== m.messageId)
}

function detail(entries: FailedRecipient[], m: ParsedMail, ids: string[]): Bounce {
  const first = entries[0]
  const fallbackTo = /^to:[ \t]*(.*)$/im.exec(m.returnedHeaders ?? '')?.[1]?.match(/[^<>\s,;"]+@[^<>\s,;"]+/)?.[0] ?? null
  const recipient = first?.recipient || fallbackTo
  const status = first?.status ?? null
  const reason = first?.reason ?? reasonOf(null, '')
  return {
    recipient,
    status,
    reason,
    kind: first?.kind ?? kindOf(reason, status),
    originalMessageId: ids[0] ?? m.inReplyTo ?? m.references.at(-1) ?? null,
    recipients: entries.filter((e) => e.recipient),
  }
}

/** A failure the MTA reports with a transient (4.x.x) status is one it stopped retrying. */
const GAVE_UP: ReadonlySet<BounceReason> = new Set(['network', 'system', 'undetermined', 'rate_limited'])

const judged = (e: Entry, context: string): FailedRecipient => {
  let reason = reasonOf(e.status, e.diagnostic, context)
  if (e.action === 'failed' && e.status?.startsWith('4') && GAVE_UP.has(reason)) reason = 'expired'
  return { recipient: e.recipient, status: e.status, reason, kind: kindOf(reason, e.status) }
}

function fromEntries(entries: Entry[], m: ParsedMail, context: string, ids: string[], delayed: boolean): Classification | null {
  const failed = entries.filter((e) => e.action === 'failed')
  const waiting = entries.filter((e) => e.action === 'delayed')
  if (failed.length > 0 && !(delayed && waiting.length === 0 && failed.every((e) => !e.status?.startsWith('5')))) {
    return { type: 'bounce', bounce: detail(failed.map((e) => judged(e, context)), m, ids) }
  }
  const pending = waiting.length > 0 ? waiting : failed
  if (pending.length > 0) {
    const bounce = detail(pending.map((e) => ({ ...judged({ ...e, action: 'delayed' }, context), kind: 'soft' as const })), m, ids)
    return { type: 'delivery_delay', bounce }
  }
  const done = entries.filter((e) => e.action === 'delivered')
  if (done.length > 0) return { type: 'delivery_report', bounce: detail(done.map((e) => judged(e, '')), m, ids) }
  return null
}

function fromSes(n: SesNotification, m: ParsedMail): Classification {
  const ids = quotedIds(m, n.originalMessageIds)
  if (n.kind === 'complaint') {
    return { type: 'complaint', complaint: { recipient: n.recipients[0]?.recipient || null, feedbackType: n.type ?? 'abuse', originalMessageId: ids[0] ?? null } }
  }
  const subtype = `${n.type ?? ''} ${n.subType ?? ''}`
  const entries = n.recipients.map((r) => {
    const reason = sesReason(n, r.status, r.diagnostic)
    // A Transient or Undetermined bounce is soft whatever its text says: SES itself says the address may work.
    const kind = /permanent/i.test(subtype) || n.kind !== 'bounce' ? kindOf(reason, r.status) : 'soft'
    return { recipient: r.recipient, status: r.status, reason, kind }
  })
  const type = n.kind === 'bounce' ? 'bounce' : n.kind === 'delay' ? 'delivery_delay' : 'delivery_report'
  return { type, bounce: detail(entries, m, ids) }
}

function sesReason(n: SesNotification, status: string | null, diagnostic: string): BounceReason {
  // A named subtype is SES's own verdict (its status codes for them are generic); General and Undetermined say nothing.
  return SES_SUBTYPE_REASONS[(n.subType ?? '').toLowerCase()] ?? reasonOf(status, diagnostic)
}

export function classify(m: ParsedMail): Classification {
  const complaint = complaintOf(m)
  if (complaint) return { type: 'complaint', complaint: { ...complaint, originalMessageId: complaint.originalMessageId ?? quotedIds(m)[0] ?? null } }
  const ses = sesNotification(m.text)
  if (ses) return fromSes(ses, m)
  const list = isList(m)
  let section: string | undefined
  const sectionOf = () => (section ??= reportSection(m.text))
  const evidence = failureEvidence(m, list, sectionOf)
  if (m.deliveryStatus || evidence.bounce) {
    const section = sectionOf()
    const ids = quotedIds(m)
    const context = `${m.subject}\n${section}`
    const exclude = new Set([...m.recipients, m.from, ...ownAddresses(m)].map((a) => a.toLowerCase()).filter(Boolean))
    const named = (header(m, 'x-failed-recipients') ?? '').split(/[,\s]+/).filter((a) => a.includes('@'))
    const dsn = dsnEntries(m.deliveryStatus ?? `${section}\n\n${m.attachedText ?? ''}`)
    const entries = dsn.length > 0 ? dsn : textEntries(section || (m.attachedText ?? ''), exclude, named)
    const found = fromEntries(entries, m, context, ids, evidence.delayed)
    if (found) return found
    if (evidence.bounce || m.deliveryStatus) {
      const bounce = detail([], m, ids)
      const reason = reasonOf(null, context)
      const status = null
      return evidence.delayed
        ? { type: 'delivery_delay', bounce: { ...bounce, reason, kind: 'soft' } }
        : { type: 'bounce', bounce: { ...bounce, reason, status, kind: kindOf(reason, status) } }
    }
  }
  if (!list && isAutoReply(m)) return { type: 'auto_reply' }
  return { type: 'email' }
}

/** The original's sender, from the headers a report returns: us, never the failed recipient. */
function ownAddresses(m: ParsedMail): string[] {
  const from = /^(from|return-path|sender):[ \t]*(.*)$/gim
  return [...`${m.returnedHeaders ?? ''}\n${m.attachedText?.slice(0, 8 * 1024) ?? ''}`.matchAll(from)].flatMap(
    (x) => x[2]!.match(/[^<>\s,;"]+@[^<>\s,;"]+/g) ?? [],
  )
}
