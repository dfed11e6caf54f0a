import type { Queryable } from '../../db/types.ts'
import { DEFAULT_POLICY, type RetentionPolicy } from '../../content/retention.ts'
import type { ContentKind } from './objects.ts'

interface PolicyRow {
  outbound_days: number | null
  inbound_days: number | null
  transactional_days: number | null
  notification_days: number | null
  attachments_days: number | null
  archive_after_days: number | null
}

/** The tenant's policy, or the defaults when it never set one. */
export async function getPolicy(q: Queryable, tenantId: string): Promise<RetentionPolicy> {
  const [r] = await q.query<PolicyRow>(
    `SELECT outbound_days, inbound_days, transactional_days, notification_days, attachments_days, archive_after_days
       FROM content.retention_policies WHERE tenant_id = $1`,
    [tenantId],
  )
  if (!r) return DEFAULT_POLICY
  return {
    content_ttl_days: { outbound: r.outbound_days, inbound: r.inbound_days, transactional: r.transactional_days, notification: r.notification_days },
    attachments_ttl_days: r.attachments_days,
    archive_after_days: r.archive_after_days,
  }
}

export async function putPolicy(q: Queryable, tenantId: string, p: RetentionPolicy): Promise<void> {
  const t = p.content_ttl_days
  await q.query(
    `INSERT INTO content.retention_policies AS r (tenant_id, outbound_days, inbound_days, transactional_days, notification_days,
       attachments_days, archive_after_days)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id) DO UPDATE SET outbound_days = $2, inbound_days = $3, transactional_days = $4,
       notification_days = $5, attachments_days = $6, archive_after_days = $7, updated = now()`,
    [tenantId, t.outbound, t.inbound, t.transactional, t.notification, p.attachments_ttl_days, p.archive_after_days],
  )
}

/**
 * Sets expires = created + days on one batch of a tenant's live content of a kind (keyset on
 * storage_key), for a policy change. Returns the last key, or null when the kind is done.
 */
export async function recomputeExpiryBatch(
  q: Queryable,
  tenantId: string,
  kind: ContentKind,
  days: number | null,
  afterKey: string,
  limit: number,
): Promise<string | null> {
  const rows = await q.query<{ storage_key: string }>(
    `WITH batch AS (
       SELECT storage_key FROM content.content_objects
        WHERE tenant_id = $1 AND kind = $2 AND content_state = 'present' AND storage_key > $3
        ORDER BY storage_key LIMIT $5)
     UPDATE content.content_objects c
        SET expires = CASE WHEN $4::integer IS NULL THEN NULL ELSE c.created + make_interval(days => $4::integer) END
       FROM batch WHERE c.storage_key = batch.storage_key
     RETURNING c.storage_key`,
    [tenantId, kind, afterKey, days, limit],
  )
  return rows.length < limit ? null : rows.map((r) => r.storage_key).sort().at(-1)!
}

/**
 * Live content past its expiry, oldest first, leaving out the messages that pending work still
 * names (a message body's key ends in its message id).
 */
export function dueForExpiry(q: Queryable, limit: number, keepMessageIds: readonly string[]) {
  return q.query<{ storage_key: string; tenant_id: string; kind: ContentKind }>(
    `SELECT storage_key, tenant_id, kind FROM content.content_objects
      WHERE expires < now() AND content_state = 'present' AND NOT (split_part(storage_key, '/', 3) = ANY($2::text[]))
      ORDER BY expires LIMIT $1`,
    [limit, keepMessageIds],
  )
}

/** Notifications past their expiry, a batch at a time. */
export async function deleteExpiredNotifications(q: Queryable, limit: number): Promise<number> {
  const rows = await q.query(
    `DELETE FROM content.notifications WHERE id IN (SELECT id FROM content.notifications WHERE expires < now() LIMIT $1) RETURNING id`,
    [limit],
  )
  return rows.length
}

/** Drops bodies, headers and attachment bytes; the row stays, saying it expired. */
export async function expireContent(q: Queryable, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  await q.query(
    `UPDATE content.content_objects
        SET content_text = NULL, content_html = NULL, content_text_packed = NULL, content_html_packed = NULL,
            headers = NULL, stored_size_bytes = 0, content_state = 'expired'
      WHERE storage_key = ANY($1::text[])`,
    [keys],
  )
  await q.query(`UPDATE content.attachments SET content = NULL, blob_sha256 = NULL WHERE parent_storage_key = ANY($1::text[])`, [keys])
}

/** Attachment bytes older than their tenant's attachment TTL (the default for tenants without a policy). */
export async function expireOldAttachments(q: Queryable, defaultDays: number | null, limit: number): Promise<number> {
  const rows = await q.query(
    `WITH due AS (
       SELECT a.id FROM content.attachments a
         LEFT JOIN content.retention_policies p ON p.tenant_id = a.tenant_id
        WHERE (a.content IS NOT NULL OR a.blob_sha256 IS NOT NULL)
          AND a.created < now() - make_interval(days => coalesce(p.attachments_days, CASE WHEN p.tenant_id IS NULL THEN $1::integer END))
        LIMIT $2)
     UPDATE content.attachments a SET content = NULL, blob_sha256 = NULL FROM due WHERE a.id = due.id RETURNING a.id`,
    [defaultDays, limit],
  )
  return rows.length
}

/**
 * Live, unarchived bodies older than their tenant's archive-after days (the default for tenants
 * without a policy), oldest first.
 */
export function dueForArchive(q: Queryable, defaultDays: number | null, limit: number) {
  return q.query<{
    storage_key: string
    compression_type: 'none' | 'gzip' | 'zstd'
    content_text: string | null
    content_html: string | null
    content_text_packed: Uint8Array | null
    content_html_packed: Uint8Array | null
  }>(
    `SELECT c.storage_key, c.compression_type, c.content_text, c.content_html, c.content_text_packed, c.content_html_packed
       FROM content.content_objects c
       LEFT JOIN content.retention_policies p ON p.tenant_id = c.tenant_id
      WHERE NOT c.archived AND c.content_state = 'present'
        AND c.created < now() - make_interval(days => coalesce(p.archive_after_days, CASE WHEN p.tenant_id IS NULL THEN $1::integer END))
      ORDER BY c.created LIMIT $2`,
    [defaultDays, limit],
  )
}

/** Rewrites one body as archived, in whatever packing the archive codec produced. */
export async function storeArchived(
  q: Queryable,
  key: string,
  b: { compression_type: string; text: string | null; html: string | null; text_packed: Uint8Array | null; html_packed: Uint8Array | null; stored_size_bytes: number },
): Promise<void> {
  await q.query(
    `UPDATE content.content_objects
        SET compression_type = $2, content_text = $3, content_html = $4, content_text_packed = $5, content_html_packed = $6,
            stored_size_bytes = $7, archived = true
      WHERE storage_key = $1 AND NOT archived AND content_state = 'present'`,
    [key, b.compression_type, b.text, b.html, b.text_packed, b.html_packed, b.stored_size_bytes],
  )
}
