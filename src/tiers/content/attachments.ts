import type { Queryable } from '../../db/types.ts'

export interface AttachmentMeta {
  id: string
  filename: string
  mime_type: string
  size_bytes: number
  storage_disposition: string
}

export interface NewAttachment {
  id: string
  filename: string
  mimeType: string
  bytes: Uint8Array
  sha256: string
  storageDisposition: string
}

export async function insertAttachment(q: Queryable, tenantId: string, parentKey: string, a: NewAttachment): Promise<void> {
  await q.query(
    `INSERT INTO content.attachments (id, tenant_id, parent_storage_key, filename, mime_type, size_bytes, content, sha256, storage_disposition)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [a.id, tenantId, parentKey, a.filename, a.mimeType, a.bytes.length, a.bytes, a.sha256, a.storageDisposition],
  )
}

export function listAttachments(q: Queryable, tenantId: string, parentKey: string): Promise<AttachmentMeta[]> {
  return q.query<AttachmentMeta>(
    `SELECT id, filename, mime_type, size_bytes, storage_disposition FROM content.attachments
      WHERE tenant_id = $1 AND parent_storage_key = $2 ORDER BY created, id`,
    [tenantId, parentKey],
  )
}

export async function getAttachment(q: Queryable, tenantId: string, parentKey: string, id: string) {
  const rows = await q.query<AttachmentMeta & { content: Uint8Array | null }>(
    `SELECT id, filename, mime_type, size_bytes, storage_disposition, content FROM content.attachments
      WHERE tenant_id = $1 AND parent_storage_key = $2 AND id = $3`,
    [tenantId, parentKey, id],
  )
  return rows[0]
}
