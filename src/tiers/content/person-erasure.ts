/**
 * A person's erasure in the content tier (src/services/erasure/person.ts decides). Bodies are
 * read a window at a time for the service to decompress and search; what names the person is
 * deleted whole (body, headers, attachments and the bytes only they used), never edited.
 */
import { scanWindow } from '../../db/scan-window.ts'
import type { Queryable } from '../../db/types.ts'
import { ERASED, type Matcher } from '../../redaction.ts'
import { STORED_BYTES, type StoredBytesRow } from './attachments.ts'
import type { contentObjects } from './schema.ts'
import { STORED_BODY_COLUMNS } from './sealing.ts'

export type StoredBody = Pick<typeof contentObjects.$inferSelect, (typeof STORED_BODY_COLUMNS)[number]>

/** The tenant's next `limit` bodies by key, after `afterKey`, as stored (the service unpacks them). */
export function bodiesAfter(q: Queryable, tenantId: string, afterKey: string, limit: number): Promise<StoredBody[]> {
  return q.query<StoredBody>(
    `SELECT ${STORED_BODY_COLUMNS.join(', ')} FROM content.content_objects
      WHERE tenant_id = $1 AND storage_key > $2 ORDER BY storage_key LIMIT $3`,
    [tenantId, afterKey, limit],
  )
}

/**
 * Types whose bytes are text, so an address in them can be found; the bytes of other files (PDF,
 * images, archives) are compressed or encoded and are not searched.
 */
const TEXTUAL = `(a.mime_type ILIKE 'text/%' OR a.mime_type IN ('message/rfc822', 'application/json', 'application/xml', 'application/csv'))`

/** The attachments of these bodies: each one's name, and the bytes of the textual ones. */
export function attachmentsToSearch(q: Queryable, tenantId: string, keys: readonly string[]) {
  if (keys.length === 0) return Promise.resolve([])
  return q.query<{ parent_storage_key: string; filename: string } & StoredBytesRow>(
    `SELECT a.parent_storage_key, a.filename, ${STORED_BYTES.replace(/^CASE WHEN/, `CASE WHEN NOT ${TEXTUAL} THEN NULL WHEN`)}
       FROM content.attachments a
       LEFT JOIN content.attachment_blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.blob_sha256
      WHERE a.tenant_id = $1 AND a.parent_storage_key = ANY($2::text[])`,
    [tenantId, keys],
  )
}

export interface ContentCounts {
  bodies: number
  attachments: number
  attachment_blobs: number
  transactional_emails: number
}

/**
 * What erasing these bodies and transactional records will delete, counted before it does: the
 * bodies, their attachments, the blobs no other attachment uses, and the records.
 */
export async function countContentToErase(q: Queryable, tenantId: string, keys: readonly string[], transactionalIds: readonly string[]): Promise<ContentCounts> {
  const [row] = await q.query<ContentCounts>(
    `WITH keys AS (
       SELECT unnest($2::text[]) AS k
       UNION SELECT content_storage_key FROM content.transactional_emails
              WHERE tenant_id = $1 AND id = ANY($3::uuid[]) AND content_storage_key IS NOT NULL)
     SELECT (SELECT count(*)::int FROM content.content_objects WHERE tenant_id = $1 AND storage_key IN (SELECT k FROM keys)) AS bodies,
            (SELECT count(*)::int FROM content.attachments WHERE tenant_id = $1 AND parent_storage_key IN (SELECT k FROM keys)) AS attachments,
            (SELECT count(DISTINCT a.blob_sha256)::int FROM content.attachments a
              WHERE a.tenant_id = $1 AND a.parent_storage_key IN (SELECT k FROM keys) AND a.blob_sha256 IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM content.attachments o WHERE o.tenant_id = $1 AND o.blob_sha256 = a.blob_sha256
                                   AND o.parent_storage_key NOT IN (SELECT k FROM keys))) AS attachment_blobs,
            (SELECT count(*)::int FROM content.transactional_emails
              WHERE tenant_id = $1 AND (id = ANY($3::uuid[]) OR content_storage_key IN (SELECT k FROM keys))) AS transactional_emails`,
    [tenantId, keys, transactionalIds],
  )
  return row!
}

/**
 * Erases bodies (with their attachments) and transactional records, in the caller's transaction:
 * a record keeps its id, dates and status, its subject and any address naming the person become
 * ERASED, and its body goes. Blobs left without an attachment are deleted under the same row-lock
 * rule as the expiry's collection (a writer attaching the same bytes keeps them). Safe to repeat.
 */
export async function eraseContent(tx: Queryable, tenantId: string, keys: readonly string[], transactionalIds: readonly string[], m: Matcher) {
  const records = await tx.query<{ content_storage_key: string | null }>(
    `UPDATE content.transactional_emails
        SET subject = $5, to_email = CASE WHEN to_email ~* $4 THEN $5 ELSE to_email END,
            from_email = CASE WHEN from_email ~* $4 THEN $5 ELSE from_email END,
            template_key = CASE WHEN template_key ~* $4 THEN $5 ELSE template_key END
      WHERE tenant_id = $1 AND (id = ANY($3::uuid[]) OR content_storage_key = ANY($2::text[]))
      RETURNING content_storage_key`,
    [tenantId, keys, transactionalIds, m.pattern, ERASED],
  )
  const all = [...new Set([...keys, ...records.flatMap((r) => (r.content_storage_key ? [r.content_storage_key] : []))])]
  if (all.length === 0) return
  const blobs = await tx.query<{ sha256: string }>(
    `DELETE FROM content.attachments WHERE tenant_id = $1 AND parent_storage_key = ANY($2::text[]) AND blob_sha256 IS NOT NULL
     RETURNING blob_sha256 AS sha256`,
    [tenantId, all],
  )
  // Attachments without a blob (written before blobs existed, or expired) go by cascade.
  await tx.query(`DELETE FROM content.content_objects WHERE tenant_id = $1 AND storage_key = ANY($2::text[])`, [tenantId, all])
  await tx.query(
    `DELETE FROM content.attachment_blobs b
      WHERE b.tenant_id = $1 AND (b.tenant_id, b.sha256) IN (
        SELECT c.tenant_id, c.sha256 FROM content.attachment_blobs c
         WHERE c.tenant_id = $1 AND c.sha256 = ANY($2::text[])
           AND NOT EXISTS (SELECT 1 FROM content.attachments a WHERE a.tenant_id = c.tenant_id AND a.blob_sha256 = c.sha256)
         FOR UPDATE SKIP LOCKED)
        AND NOT EXISTS (SELECT 1 FROM content.attachments a WHERE a.tenant_id = b.tenant_id AND a.blob_sha256 = b.sha256)`,
    [tenantId, [...new Set(blobs.map((b) => b.sha256))]],
  )
}

/** Transactional records among the tenant's next `limit` by id whose addresses, subject or template name the person. */
export function transactionalNamingWindow(q: Queryable, tenantId: string, m: Matcher, afterId: string, limit: number) {
  return scanWindow<{ id: string }>(
    q,
    `WITH win AS (SELECT id, to_email, from_email, subject, template_key FROM content.transactional_emails
                   WHERE tenant_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3)
     SELECT (SELECT id::text FROM win ORDER BY id DESC LIMIT 1) AS last, w.id
       FROM (SELECT 1) one
       LEFT JOIN win w ON w.to_email ~* $4 OR w.from_email ~* $4 OR w.subject ~* $4 OR w.template_key ~* $4`,
    [tenantId, afterId, limit, m.pattern],
    'id',
  )
}

/** Notifications among the tenant's next `limit` by id whose title, body or data name the person. */
export function notificationsNamingWindow(q: Queryable, tenantId: string, m: Matcher, afterId: string, limit: number) {
  return scanWindow<{ id: string }>(
    q,
    `WITH win AS (SELECT id, title, body, data FROM content.notifications WHERE tenant_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3)
     SELECT (SELECT id::text FROM win ORDER BY id DESC LIMIT 1) AS last, w.id
       FROM (SELECT 1) one
       LEFT JOIN win w ON w.title ~* $4 OR w.body ~* $4 OR w.data::text ~* $4`,
    [tenantId, afterId, limit, m.pattern],
    'id',
  )
}

/** A notification is a message to a user, with nothing to keep once it names the person: it goes. */
export async function deleteNotifications(q: Queryable, tenantId: string, ids: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM content.notifications WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids])
}
