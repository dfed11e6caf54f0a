import { inSlices } from '../../db/multi-row.ts'
import type { Queryable } from '../../db/types.ts'
import type { attachments } from './schema.ts'

/** What a message's attachment list shows; the bytes are fetched one attachment at a time. */
const META_COLUMNS = ['id', 'filename', 'mime_type', 'size_bytes', 'storage_disposition'] as const

export type AttachmentMeta = Pick<typeof attachments.$inferSelect, (typeof META_COLUMNS)[number]>

export interface NewAttachment {
  id: string
  filename: string
  mimeType: string
  bytes: Uint8Array
  /** sha256 of the plaintext bytes: the blob's key within the tenant (dedupe never crosses tenants). */
  sha256: string
  storageDisposition: string
  /** The bytes sealed under the tenant's key (src/services/content-seal.ts); absent, stored in the clear. */
  sealed?: { bytes: Uint8Array; keyId: string; nonce: Uint8Array }
}

/**
 * SQL: an attachment's stored bytes (its blob's, or inline ones written before blobs existed), the
 * key and nonce that sealed them, and what they are bound to (src/tiers/content/sealing.ts).
 */
export const STORED_BYTES = `CASE WHEN b.sha256 IS NOT NULL THEN b.content ELSE a.content END AS content,
  CASE WHEN b.sha256 IS NOT NULL THEN b.key_id ELSE a.key_id END AS key_id,
  CASE WHEN b.sha256 IS NOT NULL THEN b.nonce ELSE a.nonce END AS nonce,
  CASE WHEN b.sha256 IS NOT NULL THEN 'blob:' || b.sha256 ELSE 'attachment:' || a.id END AS sealed_as`

export interface StoredBytesRow {
  content: Uint8Array | null
  key_id: string | null
  nonce: Uint8Array | null
  sealed_as: string
}

/** An attachment to store: its message's tenant and storage key, and the file. */
export interface AttachmentWrite {
  tenantId: string
  parentKey: string
  a: NewAttachment
}

/** One attachment (see insertAttachments). */
export function insertAttachment(q: Queryable, tenantId: string, parentKey: string, a: NewAttachment): Promise<void> {
  return insertAttachments(q, [{ tenantId, parentKey, a }])
}

/**
 * Stores the bytes once per tenant and sha256, then the attachment rows pointing at them: two
 * multi-row statements however many files. DO UPDATE rather than DO NOTHING: it locks the blob
 * row, so a concurrent collection either waits for this transaction (and then sees the reference)
 * or has already deleted the row, in which case the insert goes ahead and writes it again. The
 * blobs are locked in one order (tenant, sha256), so two writers sharing files cannot deadlock;
 * a file twice in one call is one blob row, the first's bytes kept (as a second insert would).
 */
export async function insertAttachments(q: Queryable, files: readonly AttachmentWrite[]): Promise<void> {
  if (files.length === 0) return
  const blobs = new Map<string, AttachmentWrite>()
  for (const f of files) if (!blobs.has(`${f.tenantId}/${f.a.sha256}`)) blobs.set(`${f.tenantId}/${f.a.sha256}`, f)
  const ordered = [...blobs.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, f]) => f)
  for (const slice of inSlices(ordered)) {
    const params: unknown[] = []
    const p = (v: unknown) => `$${params.push(v)}`
    const values = slice.map(({ tenantId, a }) =>
      `(${[tenantId, a.sha256, a.bytes.length, a.sealed?.bytes ?? a.bytes, a.sealed?.keyId ?? null, a.sealed?.nonce ?? null].map(p).join(', ')})`,
    )
    await q.query(
      `INSERT INTO content.attachment_blobs AS b (tenant_id, sha256, size_bytes, content, key_id, nonce) VALUES ${values.join(', ')}
       ON CONFLICT (tenant_id, sha256) DO UPDATE SET size_bytes = excluded.size_bytes`,
      params,
    )
  }
  for (const slice of inSlices(files)) {
    const params: unknown[] = []
    const p = (v: unknown) => `$${params.push(v)}`
    const values = slice.map(({ tenantId, parentKey, a }) =>
      `(${[a.id, tenantId, parentKey, a.filename, a.mimeType, a.bytes.length, a.sha256, a.sha256, a.storageDisposition].map(p).join(', ')})`,
    )
    await q.query(
      `INSERT INTO content.attachments (id, tenant_id, parent_storage_key, filename, mime_type, size_bytes, sha256, blob_sha256,
         storage_disposition)
       VALUES ${values.join(', ')}`,
      params,
    )
  }
}

/**
 * Deletes up to `limit` blobs no attachment points at any more, one tenant at a time (on a
 * cluster, row locks are taken within one shard). SKIP LOCKED passes over blobs a writer is
 * attaching right now; the re-check happens under the row lock.
 */
export async function collectUnreferencedBlobs(q: Queryable, limit: number): Promise<number> {
  const unreferenced = `NOT EXISTS (SELECT 1 FROM content.attachments a WHERE a.tenant_id = c.tenant_id AND a.blob_sha256 = c.sha256)`
  const tenants = await q.query<{ tenant_id: string }>(
    `SELECT DISTINCT c.tenant_id FROM content.attachment_blobs c WHERE ${unreferenced} LIMIT $1`,
    [limit],
  )
  let deleted = 0
  for (const { tenant_id } of tenants) {
    if (deleted >= limit) break
    const rows = await q.query(
      `DELETE FROM content.attachment_blobs b
        WHERE b.tenant_id = $1 AND (b.tenant_id, b.sha256) IN (
          SELECT c.tenant_id, c.sha256 FROM content.attachment_blobs c
           WHERE c.tenant_id = $1 AND ${unreferenced}
           LIMIT $2 FOR UPDATE SKIP LOCKED)
          AND NOT EXISTS (SELECT 1 FROM content.attachments a WHERE a.tenant_id = b.tenant_id AND a.blob_sha256 = b.sha256)
        RETURNING b.sha256`,
      [tenant_id, limit - deleted],
    )
    deleted += rows.length
  }
  return deleted
}

export function listAttachments(q: Queryable, tenantId: string, parentKey: string): Promise<AttachmentMeta[]> {
  return q.query<AttachmentMeta>(
    `SELECT ${META_COLUMNS.join(', ')} FROM content.attachments WHERE tenant_id = $1 AND parent_storage_key = $2 ORDER BY created, id`,
    [tenantId, parentKey],
  )
}

/**
 * What verification compares for a batch of messages' attachments: names, types and the bytes
 * actually stored (sealed: the caller opens and hashes them).
 */
export function attachmentDigests(q: Queryable, tenantId: string, parentKeys: readonly string[]) {
  return q.query<{ parent_storage_key: string; filename: string; mime_type: string; storage_disposition: string } & StoredBytesRow>(
    `SELECT a.parent_storage_key, a.filename, a.mime_type, a.storage_disposition, ${STORED_BYTES}
       FROM content.attachments a
       LEFT JOIN content.attachment_blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.blob_sha256
      WHERE a.tenant_id = $1 AND a.parent_storage_key = ANY($2::text[])
      ORDER BY a.parent_storage_key, a.created, a.id`,
    [tenantId, parentKeys],
  )
}

export async function getAttachment(q: Queryable, tenantId: string, parentKey: string, id: string) {
  const rows = await q.query<AttachmentMeta & StoredBytesRow>(
    `SELECT ${META_COLUMNS.map((c) => `a.${c}`).join(', ')}, ${STORED_BYTES}
       FROM content.attachments a
       LEFT JOIN content.attachment_blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.blob_sha256
      WHERE a.tenant_id = $1 AND a.parent_storage_key = $2 AND a.id = $3`,
    [tenantId, parentKey, id],
  )
  return rows[0]
}
