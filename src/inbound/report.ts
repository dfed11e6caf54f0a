/**
 * The recipients a delivery report names, each with its action, status and diagnostic: from the
 * RFC 3464 fields when there are any (a message/delivery-status part, or the same fields quoted
 * in text), else from the human-readable notice that Exim, qmail, Exchange, Domino and the rest
 * write instead.
 */
import { enhancedCode, replyCode } from './reasons.ts'

export type Action = 'failed' | 'delayed' | 'delivered'

export interface Entry {
  recipient: string
  action: Action
  status: string | null
  diagnostic: string
}

/** Where the returned original starts in a notice that quotes it inline (its text is not the report). */
const QUOTED =
  /^[ \t>]*(-{2,}|\*{2,}|={2,})[ \t]*(this is a copy of (the|your) message|original message( follows| headers)?|below this line is a copy|the original message|message headers follow|unsent message below|returned message|included message|undelivered message|copy of (the )?original message)|^[ \t>]*-{3,}[ \t]*original message[ \t]*-{3,}|^original message headers:/im

/** What of a text reads as the report: up to the quoted original, and at most 16 KiB of it. */
export function reportSection(text: string | null): string {
  const t = (text ?? '').slice(0, 16 * 1024)
  const quoted = new RegExp(QUOTED.source, 'gim')
  for (const cut of t.matchAll(quoted)) {
    // A forwarded notice sits under the same markers: what follows is a report, keep reading.
    if (FORWARDED_NOTICE.test(t.slice(cut.index, cut.index + 400))) continue
    return t.slice(0, cut.index)
  }
  return t
}

/** The header block of a forwarded or quoted system notice. */
export const FORWARDED_NOTICE = /^[ \t>]*from:[^\n]*(mailer[-_ ]?daemon|postmaster|mail delivery (subsystem|system)|microsoft outlook)/im

const ADDRESS = /[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
const SYSTEM_LOCAL = /^(mailer[-_.]?daemon|post_?master|mail\.?delivery\.?(system|subsystem)|no-?reply|bounces?)(\+|@)/i

const bare = (v: string | undefined) => v?.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim() || null

/** Prefers a specific code over a generic X.0.0 when the diagnostic carries one of the same class. */
export function specificStatus(status: string | null, diagnostic: string): string | null {
  const inDiagnostic = enhancedCode(diagnostic)
  if (!status) return inDiagnostic ?? replyCode(diagnostic)
  if (/^\d\.0\.0$/.test(status) && inDiagnostic && inDiagnostic[0] === status[0] && !inDiagnostic.endsWith('.0.0')) return inDiagnostic
  return status
}

function actionOf(value: string | undefined, status: string | null): Action {
  const a = value?.trim().toLowerCase() ?? ''
  if (a.startsWith('delayed')) return 'delayed'
  if (/^(delivered|deliverable|relayed|expanded)/.test(a)) return 'delivered'
  if (a.startsWith('failed')) return 'failed'
  return status?.startsWith('2') ? 'delivered' : 'failed'
}

/** RFC 3464 per-recipient blocks, wherever the fields appear. */
export function dsnEntries(text: string): Entry[] {
  const entries: Entry[] = []
  for (const block of text.split(/\r?\n[ \t>]*\r?\n/)) {
    const fields = new Map<string, string>()
    for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const m = /^[ \t>]*([A-Za-z-]+):[ \t]*(.*)$/.exec(line)
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim())
    }
    const recipient = bare(fields.get('final-recipient')) ?? bare(fields.get('original-recipient'))
    if (!recipient && !fields.has('action')) continue
    const diagnostic = bare(fields.get('diagnostic-code')) ?? ''
    const raw = enhancedCode(fields.get('status') ?? '')
    const status = specificStatus(raw, diagnostic)
    entries.push({ recipient: recipient ?? '', action: actionOf(fields.get('action'), status), status, diagnostic })
  }
  return entries.filter((e) => e.recipient || e.status)
}

/**
 * Failed recipients named in a notice's text. `exclude` holds addresses that are never the failed
 * recipient (our own mailbox, the report's sender, the original's sender); `named` comes first
 * (X-Failed-Recipients). Each recipient's diagnostic is the text from it to the next one.
 */
export function textEntries(section: string, exclude: Set<string>, named: string[]): Entry[] {
  const found: { recipient: string; at: number }[] = []
  const seen = new Set<string>()
  const add = (recipient: string, at: number) => {
    const key = recipient.toLowerCase()
    if (seen.has(key) || exclude.has(key) || SYSTEM_LOCAL.test(recipient)) return
    seen.add(key)
    found.push({ recipient, at })
  }
  for (const r of named) add(r, Math.max(0, section.toLowerCase().indexOf(r.toLowerCase())))
  if (found.length === 0) {
    for (const m of section.matchAll(ADDRESS)) {
      const lineStart = section.lastIndexOf('\n', m.index) + 1
      const line = section.slice(lineStart, m.index)
      // Header lines of a quoted or forwarded message name senders and ids, not the failed recipient.
      if (/^[ \t>]*(from|return-path|sender|reply-to|message-id|in-reply-to|references|received|envelope-from|reporting-mta|x-[\w-]+)\s*:/i.test(line)) continue
      const before = section[m.index - 1]
      const after = section[m.index + m[0].length]
      if (before === '<' && after === '>' && /message-?id|references|in-reply-to/i.test(line)) continue
      add(m[0], m.index)
    }
  }
  const ordered = found.sort((a, b) => a.at - b.at)
  const whole = enhancedStatus(section) ?? replyCode(section)
  return ordered.map(({ recipient, at }, i) => {
    const next = ordered[i + 1]?.at ?? section.length
    const diagnostic = section.slice(at, next > at ? next : section.length)
    return { recipient, action: 'failed', status: enhancedStatus(diagnostic) ?? replyCode(diagnostic) ?? whole, diagnostic }
  })
}

/** The first specific enhanced code (X.0.0 only when there is nothing better). */
function enhancedStatus(text: string): string | null {
  let first: string | null = null
  const re = /(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d]|\.\d)/g
  for (const m of text.matchAll(re)) {
    if (!m[0].endsWith('.0.0')) return m[0]
    first ??= m[0]
  }
  return first
}
