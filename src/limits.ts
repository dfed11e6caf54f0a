/**
 * What one message, transactional email or notification may carry, the same whichever way it
 * arrives (JSON API or raw inbound mail). Each cap is a named constant here and in the README.
 * Over a cap is a validation error naming the field (422), checked before anything is written;
 * 413 is kept for a request body over MAX_BODY_BYTES or INBOUND_MAX_BYTES.
 */
import { invalid } from './errors.ts'

/** Attachments (inline parts included) per message. */
export const MAX_ATTACHMENTS = 100
/** Decoded bytes of one attachment. At the default MAX_BODY_BYTES (25 MiB of base64) the body limit binds first. */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
/** Header fields per message or transactional email, duplicates counted. */
export const MAX_HEADERS = 500
/** UTF-8 bytes of all header names and values together; the inbound parser allows 256 KiB of raw header too. */
export const MAX_HEADER_BYTES = 256 * 1024
/** Serialized (JSON, UTF-8) bytes of free-form data: a notification's `data`. */
export const MAX_METADATA_BYTES = 64 * 1024
/** Serialized bytes of one event's `metadata` (provider ids, a URL, a user agent: hundreds of bytes in practice). */
export const MAX_EVENT_METADATA_BYTES = 4 * 1024

/** UTF-8 bytes of a value as JSON; a value JSON cannot hold (or too deep to walk) counts as too large. */
export function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8')

export function checkHeaders(headers: readonly { name: string; value: string }[], field = 'headers'): void {
  if (headers.length > MAX_HEADERS) {
    throw invalid(`too many headers: ${headers.length}`, field, `at most ${MAX_HEADERS} header fields`)
  }
  let bytes = 0
  for (const h of headers) bytes += utf8(h.name) + utf8(h.value)
  if (bytes > MAX_HEADER_BYTES) {
    throw invalid(`headers too large: ${bytes} bytes`, field, `at most ${MAX_HEADER_BYTES} bytes of header names and values`)
  }
}

export function checkAttachments(attachments: readonly { bytes: Uint8Array }[], field = 'attachments'): void {
  if (attachments.length > MAX_ATTACHMENTS) {
    throw invalid(`too many attachments: ${attachments.length}`, field, `at most ${MAX_ATTACHMENTS} attachments`)
  }
  const big = attachments.findIndex((a) => a.bytes.length > MAX_ATTACHMENT_BYTES)
  if (big >= 0) {
    throw invalid(`attachment ${big} too large`, `${field}.${big}`, `at most ${MAX_ATTACHMENT_BYTES} bytes once decoded`)
  }
}

export function checkMetadata(data: unknown, field: string): void {
  if (data == null) return
  const bytes = jsonBytes(data)
  if (bytes > MAX_METADATA_BYTES) {
    throw invalid(`${field} too large: ${bytes} bytes`, field, `at most ${MAX_METADATA_BYTES} bytes as JSON`)
  }
}

/** Data rows in one lead import (POST /v1/leads/import); more is 413 with nothing written. */
export const MAX_IMPORT_ROWS = 100_000
/** Characters of one CSV record or NDJSON line in a lead import; a longer one is a failed row. */
export const MAX_IMPORT_RECORD_CHARS = 8 * 1024
/** Row errors an import report lists; `failed` still counts every failed row. */
export const MAX_IMPORT_ERRORS = 1_000
