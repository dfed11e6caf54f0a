/**
 * Complaints: an ARF feedback report (RFC 5965: multipart/report; report-type=feedback-report,
 * a message/feedback-report part, the original or its headers) or a provider's abuse notice
 * with the original attached (Microsoft JMRP and the like). Never human email.
 */
import { header, messageIds, type ParsedMail } from './parse.ts'

export interface Complaint {
  /** The address that complained (Original-Rcpt-To, else the original's To). */
  recipient: string | null
  /** Feedback-Type: abuse, fraud, virus, not-spam, other… */
  feedbackType: string
  originalMessageId: string | null
}

const NOTICE_SUBJECT = /complaint about message|abuse report|spam (complaint|report)|feedback loop|\bfbl\b|junk mail report|reported as (spam|junk)/i

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):[ \t]*(.*)$/.exec(line)
    if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!.trim())
  }
  return out
}

const firstAddress = (v: string | undefined) => v?.match(/[^<>\s,;":]+@[^<>\s,;"]+/)?.[0] ?? null

export function complaintOf(m: ParsedMail): Complaint | null {
  const contentType = header(m, 'content-type') ?? ''
  const arf = m.feedbackReport !== null || /report-type\s*=\s*"?feedback-report/i.test(contentType)
  const attached = m.returnedHeaders !== null
  if (!arf && !(attached && NOTICE_SUBJECT.test(m.subject))) return null
  const report = fields(m.feedbackReport ?? '')
  const original = fields(m.returnedHeaders ?? '')
  const recipient =
    firstAddress(report.get('original-rcpt-to')) ??
    firstAddress(report.get('removal-recipient')) ??
    firstAddress(original.get('x-hmxmroriginalrecipient')) ??
    firstAddress(original.get('to'))
  return {
    recipient,
    feedbackType: (report.get('feedback-type') ?? 'abuse').toLowerCase().slice(0, 40),
    originalMessageId: messageIds(report.get('original-message-id'))[0] ?? messageIds(original.get('message-id'))[0] ?? null,
  }
}
