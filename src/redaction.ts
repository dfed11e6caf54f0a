/**
 * The one owner of how an erasure finds what names a person or a tenant, and what it leaves in
 * its place, in TypeScript and in SQL (like storage-keys.ts): every tier module that searches or
 * redacts calls this one, so the database and the code agree on what a match is.
 *
 * An address matches as an address, case-insensitively: `jane@example.com` is found in
 * `<Jane@Example.com>` and `"jane@example.com"`, never inside `mary.jane@example.com` or
 * `jane@example.com.au`, which are other people. The pattern is written so PostgreSQL's regular
 * expressions (`~*`, `regexp_replace`) and JavaScript's read it alike: ASCII classes, escapes only
 * of punctuation, lookbehind and lookahead (both engines have them).
 */
import { sha256Hex } from './ids.ts'

/** What replaces an erased address or subject. */
export const ERASED = '[erased]'

/** Addresses compare without case and surrounding space. */
export const normalizeAddress = (email: string) => email.trim().toLowerCase()

/** sha256 of the normalized address, hex: what a person's erasure request keeps of the address. */
export const addressSha256 = (email: string) => sha256Hex(normalizeAddress(email))

/**
 * The pseudonym an erased address keeps where something must still recognise it (a suppression):
 * the same address asked about later hashes to it, and nothing leads back from it.
 */
export const erasedAddress = (email: string) => `sha256:${addressSha256(email)}`

/** SQL: erasedAddress of a parameter or column that already holds a normalized address. */
export const erasedAddressSql = (expr: string) => `'sha256:' || encode(sha256(convert_to(${expr}, 'UTF8')), 'hex')`

/** Characters of a local part (RFC 5322 atext and the dot); a match may not follow one. */
const LOCAL = "[-A-Za-z0-9.!#$%&'*+/=?^_`{|}~]"
/** A match may not go on into more of a domain: a letter, digit or hyphen, or a dot and one. */
const DOMAIN_GOES_ON = '[-A-Za-z0-9]|[.][-A-Za-z0-9]'

/** Escapes what is special in either engine's regular expressions (only punctuation). */
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')

/** What one erasure searches for: a needle for a cheap SQL prefilter, and a pattern that decides. */
export interface Matcher {
  /** Lowercase text every match contains: `strpos(lower(col), needle) > 0` narrows before the pattern runs. */
  readonly needle: string
  /** A regular expression for `~*` and `regexp_replace(…, 'gi')` in SQL, and for JavaScript with flags `gi`. */
  readonly pattern: string
  /** Whether the text names it. */
  names(text: string | null | undefined): boolean
  /** The text with every match replaced by ERASED. */
  redact(text: string): string
}

function matcher(needle: string, pattern: string): Matcher {
  const re = new RegExp(pattern, 'gi')
  return {
    needle,
    pattern,
    names: (text) => {
      if (!text || !text.toLowerCase().includes(needle)) return false
      re.lastIndex = 0
      return re.test(text)
    },
    redact: (text) => text.replace(re, ERASED),
  }
}

/** Finds an email address as an address (see the header). */
export function addressMatcher(email: string): Matcher {
  const needle = normalizeAddress(email)
  return matcher(needle, `(?<!${LOCAL})${escape(needle)}(?!${DOMAIN_GOES_ON})`)
}

/** Finds a piece of text wherever it occurs: a tenant id, in a deletion. */
export function textMatcher(text: string): Matcher {
  const needle = text.toLowerCase()
  return matcher(needle, escape(needle))
}

/** A JSON value with every string (keys included) redacted; `changed` says whether anything was. */
export function redactJson(value: unknown, m: Matcher): { value: unknown; changed: boolean } {
  let changed = false
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!m.names(v)) return v
      changed = true
      return m.redact(v)
    }
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]))
    return v
  }
  const out = walk(value)
  return { value: out, changed }
}
