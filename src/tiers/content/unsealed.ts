/**
 * Rows written before encryption at rest, still in the clear: what content.encrypt_existing seals
 * in place, a batch at a time in key order (the *_unsealed partial indexes). Every store is
 * conditional on the row still being in the clear and present, so a batch that runs twice, or
 * races an expiry, an archive run or an erasure, changes nothing it should not.
 */
import type { Queryable } from '../../db/types.ts'
import { STORED_BODY_COLUMNS, type SealedBody } from './sealing.ts'
import type { contentObjects } from './schema.ts'

export type UnsealedBody = Pick<typeof contentObjects.$inferSelect, (typeof STORED_BODY_COLUMNS)[number]>

/** The next `limit` present bodies in the clear after `afterKey`. */
export function unsealedBodies(q: Queryable, afterKey: string, limit: number): Promise<UnsealedBody[]> {
  return q.query<UnsealedBody>(
    `SELECT ${STORED_BODY_COLUMNS.join(', ')} FROM content.content_objects
      WHERE key_id IS NULL AND content_state = 'present' AND storage_key > $1 ORDER BY storage_key LIMIT $2`,
    [afterKey, limit],
  )
}

/** Replaces a body in the clear with its sealed form; false when it was sealed, expired or deleted meanwhile. */
export async function storeSealedBody(q: Queryable, storageKey: string, b: SealedBody): Promise<boolean> {
  const rows = await q.query(
    `UPDATE content.content_objects
        SET content_text = NULL, content_html = NULL, content_text_packed = $2, content_html_packed = $3, headers = NULL,
            headers_sealed = $4, key_id = $5, nonce = $6, stored_size_bytes = $7
      WHERE storage_key = $1 AND key_id IS NULL AND content_state = 'present' RETURNING 1`,
    [storageKey, b.text_packed, b.html_packed, b.headers_sealed, b.key_id, b.nonce, b.stored_size_bytes],
  )
  return rows.length === 1
}

/** The next `limit` blobs in the clear after (tenant, sha256). */
export function unsealedBlobs(q: Queryable, after: { tenant: string; sha256: string }, limit: number) {
  return q.query<{ tenant_id: string; sha256: string; content: Uint8Array }>(
    `SELECT tenant_id, sha256, content FROM content.attachment_blobs
      WHERE key_id IS NULL AND (tenant_id, sha256) > ($1::uuid, $2::char(64)) ORDER BY tenant_id, sha256 LIMIT $3`,
    [after.tenant, after.sha256, limit],
  )
}

export async function storeSealedBlob(q: Queryable, tenantId: string, sha256: string, sealed: { bytes: Uint8Array; keyId: string; nonce: Uint8Array }) {
  const rows = await q.query(
    `UPDATE content.attachment_blobs SET content = $3, key_id = $4, nonce = $5 WHERE tenant_id = $1 AND sha256 = $2 AND key_id IS NULL RETURNING 1`,
    [tenantId, sha256, sealed.bytes, sealed.keyId, sealed.nonce],
  )
  return rows.length === 1
}

/** Attachments written before blobs existed, with their bytes inline and in the clear, by id. */
export function unsealedInline(q: Queryable, afterId: string, limit: number) {
  return q.query<{ id: string; tenant_id: string; content: Uint8Array }>(
    `SELECT id, tenant_id, content FROM content.attachments WHERE content IS NOT NULL AND key_id IS NULL AND id > $1::uuid ORDER BY id LIMIT $2`,
    [afterId, limit],
  )
}

export async function storeSealedInline(q: Queryable, id: string, sealed: { bytes: Uint8Array; keyId: string; nonce: Uint8Array }) {
  const rows = await q.query(
    `UPDATE content.attachments SET content = $2, key_id = $3, nonce = $4 WHERE id = $1 AND content IS NOT NULL AND key_id IS NULL RETURNING 1`,
    [id, sealed.bytes, sealed.keyId, sealed.nonce],
  )
  return rows.length === 1
}

/** Rows still in the clear, per table (`keys status`; read through the partial indexes). */
export async function unsealedCounts(q: Queryable) {
  const [row] = await q.query<{ bodies: number; blobs: number; inline_attachments: number }>(
    `SELECT (SELECT count(*)::int FROM content.content_objects WHERE key_id IS NULL AND content_state = 'present') AS bodies,
            (SELECT count(*)::int FROM content.attachment_blobs WHERE key_id IS NULL) AS blobs,
            (SELECT count(*)::int FROM content.attachments WHERE content IS NOT NULL AND key_id IS NULL) AS inline_attachments`,
  )
  return row!
}
