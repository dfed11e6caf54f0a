/** One chunk of generated messages as COPY lines for both designs, attachments deduplicated per tenant as the API would. */
import { createHash } from 'node:crypto'
import { packBody } from '../../src/tiers/content/codec.ts'
import { messageKey } from '../../src/storage-keys.ts'
import { attachmentBytes, copyEscape, fill, type Pools } from '../../datagen/bodies.ts'
import type { GenMessage } from '../../datagen/world.ts'
import { DEFAULT_POLICY } from '../../src/tiers/content/retention.ts'
import { hexBytea, iso, N, opt, row, T } from './copy.ts'

const DAY_MS = 86_400_000

/** What expiresOnCreate (src/tiers/content/retention.ts) gives a body of a tenant on the default policy. */
const expiresFor = (m: GenMessage) => {
  const days = DEFAULT_POLICY.content_ttl_days[m.direction]
  return days === null ? N : iso(new Date(m.created.getTime() + days * DAY_MS))
}

export interface Chunk {
  refs: string[]
  content: string[]
  blobs: string[]
  attachments: string[]
  legacy: string[]
  legacyAttachments: string[]
  /** Per message: its parent is in this chunk too. */
  parentInChunk: boolean[]
  rawBytes: number
}

interface AttachmentFile {
  bytes: Uint8Array
  sha: string
  /** COPY-ready bytea, kept for shared files so 10,000 legacy copies cost one encode. */
  copy: string
}

export class ChunkBuilder {
  private readonly seenBlobs = new Set<string>()
  private readonly brochures = new Map<string, AttachmentFile>()

  constructor(private readonly pools: Pools) {}

  private file(m: GenMessage): AttachmentFile {
    const make = (identity: number): AttachmentFile => {
      const bytes = attachmentBytes(this.pools, identity, m.attachmentSize)
      return { bytes, sha: createHash('sha256').update(bytes).digest('hex'), copy: hexBytea(bytes) }
    }
    if (!m.attachmentShared) return make(m.index + 1)
    const key = `${m.tenant.id}/${m.campaignIndex}`
    let f = this.brochures.get(key)
    if (!f) this.brochures.set(key, (f = make(-(this.brochures.size + 1))))
    return f
  }

  build(messages: GenMessage[]): Chunk {
    const { pools } = this
    const c: Chunk = { refs: [], content: [], blobs: [], attachments: [], legacy: [], legacyAttachments: [], parentInChunk: [], rawBytes: 0 }
    const ids = new Set(messages.map((m) => m.id))
    for (const m of messages) {
      c.parentInChunk.push(m.parentId !== null && ids.has(m.parentId))
      const t = m.tenant
      const created = iso(m.created)
      const token = m.id.slice(24)
      const name = m.lead?.first ?? 'there'
      const text = pools.text[m.text]!
      const html = pools.html[m.html]!
      const headers = pools.headers[m.headers]!
      const bodyValues = [name, token]
      const headerValues = [m.rfc822Id, m.to, m.created.toUTCString(), token]
      const rawText = fill(text, text.raw, bodyValues)
      const rawHtml = fill(html, html.raw, bodyValues)
      const rawHeaders = fill(headers, headers.raw, headerValues)
      const copyHeaders = fill(headers, headers.copy, headerValues)
      const packed = packBody(rawText, rawHtml, 1024)
      c.rawBytes += packed.raw_size_bytes + rawHeaders.length
      const key = messageKey(t.id, m.id)
      const campaign = m.campaignIndex === null ? null : t.campaigns[m.campaignIndex]!.id
      const subject = copyEscape(m.subject)
      const meta = { campaign_id: opt(campaign), sequence_step_id: opt(m.stepId), lead_id: opt(m.lead?.id), parent_message_id: opt(m.parentId) }
      const common = { tenant_id: t.id, email_account_id: m.mailbox.id, ...meta, direction: m.direction, message_type: m.messageType }
      const addressed = { from_email: m.from, to_email: m.to, subject, status: m.status, created, updated: created }
      c.refs.push(row(T.refs, { id: m.id, ...common, ...addressed, rfc822_message_id: m.rfc822Id }))
      c.content.push(
        row(T.content, {
          storage_key: key,
          tenant_id: t.id,
          kind: m.direction,
          content_text_packed: hexBytea(packed.text_packed),
          content_html_packed: hexBytea(packed.html_packed),
          headers: copyHeaders,
          raw_size_bytes: packed.raw_size_bytes,
          stored_size_bytes: packed.stored_size_bytes,
          compression_type: packed.compression_type,
          created,
          expires: expiresFor(m),
        }),
      )
      c.legacy.push(
        row(T.legacy, {
          id: m.id,
          ...common,
          ...addressed,
          message_id: m.rfc822Id,
          content_text: fill(text, text.copy, bodyValues),
          content_html: fill(html, html.copy, bodyValues),
          headers: copyHeaders,
        }),
      )
      if (m.attachmentSize > 0) {
        const f = this.file(m)
        const filename = m.attachmentShared ? 'brochure.pdf' : `scan-${m.index}.pdf`
        const attachmentId = `${m.id.slice(0, 24)}${(m.index % 0xffffffffffff).toString(16).padStart(12, 'a')}`
        if (!this.seenBlobs.has(`${t.id}/${f.sha}`)) {
          this.seenBlobs.add(`${t.id}/${f.sha}`)
          c.blobs.push(row(T.blobs, { tenant_id: t.id, sha256: f.sha, size_bytes: f.bytes.length, content: f.copy, created }))
        }
        const file = { id: attachmentId, filename, mime_type: 'application/pdf', size_bytes: f.bytes.length, created }
        c.attachments.push(
          row(T.attachments, { ...file, tenant_id: t.id, parent_storage_key: key, sha256: f.sha, blob_sha256: f.sha, storage_disposition: 'attachment' }),
        )
        c.legacyAttachments.push(row(T.legacyAttachments, { ...file, email_id: m.id, content: f.copy }))
      }
    }
    return c
  }
}
