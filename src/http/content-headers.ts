/**
 * Headers for responses that carry stored content (attachment bytes, bodies): whatever a sender
 * put in a message must not run as our origin's page when a browser opens the link.
 */
import { safeFilename, storedMimeType } from '../content-safety.ts'

/**
 * On every content response: no MIME sniffing (a "text/plain" file full of markup stays text),
 * and a sandbox without any source, so even a document that renders runs no script, submits no
 * form and loads nothing.
 */
export const CONTENT_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
} as const

/**
 * The only types served inline (and only when stored as inline): images a browser decodes
 * without running anything, and plain text. Not PDF (viewers run scripts, and Chrome will not
 * render one under a sandbox CSP anyway), never HTML, SVG or any XML, which can script.
 */
export const INLINE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain'])

/** RFC 5987 attr-char: encodeURIComponent leaves ' ( ) * unescaped, which filename* does not allow. */
const extValue = (s: string) => encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** RFC 6266: the UTF-8 name in filename*, and an ASCII fallback (no quotes, backslashes or %) for old clients. */
export function contentDisposition(inline: boolean, filename: string): string {
  const name = safeFilename(filename)
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${extValue(name)}`
}

/**
 * Headers for an attachment's bytes. Type and name are normalised again here, so rows stored
 * before the write path cleaned them are still served safely (and never as an invalid header).
 */
export function attachmentHeaders(a: { mime_type: string; filename: string; storage_disposition: string; size_bytes: number }) {
  const type = storedMimeType(a.mime_type)
  const inline = a.storage_disposition === 'inline' && INLINE_TYPES.has(type)
  return {
    'content-type': type,
    'content-length': String(a.size_bytes),
    'content-disposition': contentDisposition(inline, a.filename),
    ...CONTENT_SECURITY_HEADERS,
  }
}
