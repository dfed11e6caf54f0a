/**
 * What verification compares: one message reduced to a checksum over its metadata columns and
 * the sha256 of its text, html, headers and attachments. Both sides are reduced the same way (the
 * legacy row through the mapping, our row as stored), so any difference is a real one, and it is
 * named by part and, for metadata, by column.
 */
import { sha256Hex } from '../ids.ts'
import type { HeaderField } from '../services/message-write.ts'

export const META_FIELDS = [
  'id',
  'tenant_id',
  'email_account_id',
  'campaign_id',
  'sequence_step_id',
  'lead_id',
  'parent_message_id',
  'direction',
  'message_type',
  'from_email',
  'to_email',
  'subject',
  'status',
  'rfc822_message_id',
  'created',
] as const

export type Meta = Record<(typeof META_FIELDS)[number], string | null>

export interface FileDigest {
  filename: string
  mime_type: string
  storage_disposition: string
  sha256: string | null
}

export interface MessageSnapshot {
  meta: Meta
  content_text: string | null
  content_html: string | null
  headers: HeaderField[] | null
  attachments: FileDigest[]
  /** Content expired under the retention policy: bodies are gone by design and not compared. */
  expired: boolean
}

export interface MessageDigest {
  meta: string
  parts: Record<'content_text' | 'content_html' | 'headers' | 'attachments', string>
  /** The whole message, what a batch checksum is made of. */
  all: string
}

const hashOf = (value: unknown) => sha256Hex(value === null ? '\u0000null' : typeof value === 'string' ? value : JSON.stringify(value))

/** Attachments in a canonical order: their stored order is the write's, not the legacy table's. */
const sortedFiles = (files: FileDigest[]) =>
  [...files].sort((a, b) => `${a.sha256}\u0000${a.filename}`.localeCompare(`${b.sha256}\u0000${b.filename}`))

export function digestOf(s: MessageSnapshot): MessageDigest {
  const meta = hashOf(META_FIELDS.map((f) => s.meta[f]))
  const parts = s.expired
    ? { content_text: 'expired', content_html: 'expired', headers: 'expired', attachments: 'expired' }
    : {
        content_text: hashOf(s.content_text),
        content_html: hashOf(s.content_html),
        headers: hashOf(s.headers),
        attachments: hashOf(sortedFiles(s.attachments)),
      }
  return { meta, parts, all: hashOf([meta, parts]) }
}

/** The columns and parts that differ, by name; empty when the two match. */
export function differences(expected: MessageSnapshot, actual: MessageSnapshot): string[] {
  const a = digestOf(expected)
  const b = digestOf(actual)
  const out: string[] = META_FIELDS.filter((f) => expected.meta[f] !== actual.meta[f])
  if (!expected.expired && !actual.expired) {
    for (const part of Object.keys(a.parts) as (keyof MessageDigest['parts'])[]) if (a.parts[part] !== b.parts[part]) out.push(part)
  } else if (expected.expired !== actual.expired) out.push('content_state')
  return out
}

/** A batch's checksum: its messages' whole digests (MessageDigest.all) in legacy key order. */
export const batchChecksum = (digests: readonly string[]) => sha256Hex(digests.join('\n'))
