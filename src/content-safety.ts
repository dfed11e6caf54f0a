/**
 * The one definition of what may reach a header or a file name, shared by the JSON API (which
 * refuses bad input) and inbound mail (which stores a safe form of it, since mail is not ours to
 * refuse for a stray byte).
 */

/**
 * Characters that must never reach a header: C0 controls but TAB (CR and LF above all, which
 * would start a new header), DEL, C1 controls, and the Unicode line and paragraph separators.
 */
const UNSAFE = '\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f\\u2028\\u2029'
/** Text with none of them: what the JSON API accepts in a subject, a header value or a display name. */
export const HEADER_SAFE = new RegExp(`^[^${UNSAFE}]*$`)
const HEADER_UNSAFE_ALL = new RegExp(`[${UNSAFE}]`, 'g')

/** Header-bound text from a mail: each unsafe character becomes a space, as unfolding would make it. */
export const headerSafe = (s: string) => s.toWellFormed().replace(HEADER_UNSAFE_ALL, ' ')

/**
 * A media type as RFC 6838 names it (type/subtype, restricted-name characters), without
 * parameters; 100 characters is what the attachments table holds.
 */
export const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i
export const MAX_MIME_TYPE_LENGTH = 100
export const UNKNOWN_MIME_TYPE = 'application/octet-stream'

export const isMimeType = (s: string) => s.length <= MAX_MIME_TYPE_LENGTH && MIME_TYPE.test(s)

/**
 * The type to store and serve: lower-cased, or application/octet-stream for anything malformed.
 * A malformed type would otherwise be an invalid Content-Type and fail every download.
 */
export function storedMimeType(s: string): string {
  const t = s.trim().toLowerCase()
  return isMimeType(t) ? t : UNKNOWN_MIME_TYPE
}

/** Longest stored file name, in code points (the column holds 255 characters). */
export const MAX_FILENAME_LENGTH = 200
export const DEFAULT_FILENAME = 'attachment'

/** Controls, and the bidi marks, embeddings, overrides and isolates that disguise an extension ("gpj.exe"). */
const FILENAME_STRIP = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g

/**
 * A file name safe to store and offer for download: no directory part (either slash), no
 * controls or bidi formatting, at most MAX_FILENAME_LENGTH code points (the extension kept), and
 * DEFAULT_FILENAME when nothing is left.
 */
export function safeFilename(name: string): string {
  const base = name.toWellFormed().replace(FILENAME_STRIP, '').split(/[/\\]/).pop()!.trim()
  if (base === '' || /^\.+$/.test(base)) return DEFAULT_FILENAME
  const chars = Array.from(base)
  if (chars.length <= MAX_FILENAME_LENGTH) return base
  const dot = base.lastIndexOf('.')
  const ext = dot > 0 ? Array.from(base.slice(dot)) : []
  const keep = ext.length > 0 && ext.length <= 16 ? ext : []
  return chars.slice(0, MAX_FILENAME_LENGTH - keep.length).join('') + keep.join('')
}
