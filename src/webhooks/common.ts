/**
 * What the four provider modules share: JSON read without trusting its shape, constant-time
 * comparison, the replay window, and one normalisation of addresses, times, ids and statuses, so
 * that every provider's event comes out in the same form.
 */
import { timingSafeEqual } from 'node:crypto'
import { isUuid, sha256Hex } from '../ids.ts'
import { messageIds } from '../inbound/parse.ts'
import { enhancedCode, kindOf, type BounceReason } from '../inbound/reasons.ts'
import { specificStatus } from '../inbound/report.ts'
import { WebhookRejected, type BounceDetail } from './types.ts'

export type Json = Record<string, unknown>
export const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null)
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Json => x !== null) : [])

export const malformed = (message: string, field: string) => new WebhookRejected('malformed', message, field)
export const unauthenticated = (message: string) => new WebhookRejected('unauthenticated', message)

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown

export function parseJson(text: string, field = 'body', reviver?: Reviver): unknown {
  try {
    return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1])
  } catch {
    throw malformed(`${field} is not JSON`, field)
  }
}

/** A string the payload must carry (a number is taken as its decimal text). */
export function required(value: unknown, field: string): string {
  const s = typeof value === 'number' && Number.isFinite(value) ? String(value) : str(value)?.trim()
  if (!s) throw malformed(`${field} is missing`, field)
  return s
}

/** Equal bytes, in time that does not depend on where they differ. */
export const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b)

/** How far a signed timestamp may be from now: a copy replayed later than this is refused. */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000

export function checkFresh(seconds: string | null | undefined, now: number): void {
  const at = seconds && /^\d{1,12}$/.test(seconds.trim()) ? Number(seconds.trim()) * 1000 : Number.NaN
  if (Number.isNaN(at)) throw unauthenticated('missing or unreadable signature timestamp')
  if (Math.abs(now - at) > REPLAY_WINDOW_MS) throw unauthenticated('signature timestamp is outside the replay window')
}

/** An address, bare (a display-name form keeps what is inside the brackets), trimmed and lowercased. */
export function recipientOf(value: unknown, field: string): string {
  const s = str(value)
  const address = (s && /<([^<>\s]+@[^<>\s]+)>/.exec(s)?.[1]) || s
  const a = address?.trim().toLowerCase()
  if (!a || a.length > 320) throw malformed(`${field} is missing or not an address`, field)
  return a
}

/** ISO 8601 from an ISO string or a unix time in seconds (a float for Mailgun), as a number or its text. */
export function isoOf(value: unknown, field: string): string {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : null
  const ms = seconds !== null ? seconds * 1000 : typeof value === 'string' && value.trim() ? Date.parse(value) : Number.NaN
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) throw malformed(`${field} is missing or not a time`, field)
  return date.toISOString()
}

export const MAX_EVENT_ID = 150

/** The parts of an event id joined by ':'; a longer one keeps its first part and hashes the whole. */
export function eventKey(...parts: string[]): string {
  const key = parts.join(':')
  return key.length <= MAX_EVENT_ID ? key : `${parts[0]!.slice(0, 40)}:sha256:${sha256Hex(key)}`
}

/** Our message id as echoed by the provider (a SES tag is a list of values): a uuid, else null. */
export function ourMessageId(value: unknown): string | null {
  const s = str(Array.isArray(value) ? value[0] : value)?.trim()
  return s && isUuid(s) ? s.toLowerCase() : null
}

/** RFC 5322 Message-IDs, each with angle brackets: a provider that drops them gets them back. */
export function bracketIds(...values: (string | null | undefined)[]): string[] {
  const ids = values.flatMap((v) => {
    const t = v?.trim()
    if (!t) return []
    const found = messageIds(t)
    return found.length > 0 ? found : /^[^<>\s]+@[^<>\s]+$/.test(t) ? [`<${t}>`] : []
  })
  return [...new Set(ids)]
}

/** The enhanced status code (X.Y.Z): the provider's own if it gives one, made specific from the texts when it is X.0.0. */
export function statusOf(status: string | null | undefined, ...texts: (string | null | undefined)[]): string | null {
  const text = texts.filter(Boolean).join('\n')
  const given = status?.trim()
  if (given && /^[245]\.\d{1,3}\.\d{1,3}$/.test(given)) return specificStatus(given, text)
  return enhancedCode(text)
}

/** Diagnostics end up in an event's metadata, which is capped (src/limits.ts): keep the start. */
export const MAX_DIAGNOSTIC = 512

export function bounceDetail(reason: BounceReason, status: string | null, diagnostic: string, kind = kindOf(reason, status)): BounceDetail {
  return { reason, kind, status, diagnostic: diagnostic.trim().slice(0, MAX_DIAGNOSTIC) }
}
