/**
 * How long content lives: the policy (per tenant, or the defaults), the one rule that turns a
 * policy into an expiry, and the named queries of the content lifecycle (recompute, expire,
 * archive). The rule is written once, as SQL, because every place that applies it is a query;
 * a write reads its tenant's policy first and passes the days in.
 */
import { z } from 'zod'
import { plusDaysSql } from '../../db/sql-time.ts'
import type { Queryable } from '../../db/types.ts'
import { messageIdOfKeySql } from '../../storage-keys.ts'
import { STORED_BODY_COLUMNS, type SealedBody } from './sealing.ts'
import type { ContentKind } from './objects.ts'
import type { contentObjects } from './schema.ts'

/** A number of days (at most a century), or null for forever. */
const Days = z.number().int().min(1).max(36_500).nullable()

/** A tenant's retention policy, as stored and as the API takes it. */
export const retentionPolicySchema = z.object({
  /** Days a body lives, per kind; null keeps it forever. */
  content_ttl_days: z.object({ outbound: Days, inbound: Days, transactional: Days, notification: Days }),
  /** Days attachment bytes live; null keeps them as long as their message. */
  attachments_ttl_days: Days,
  /** Days before a body is recompressed into the warm archive; null never. */
  archive_after_days: Days,
})

export type RetentionPolicy = z.infer<typeof retentionPolicySchema>

/**
 * For a tenant that set nothing: two years of correspondence, a quarter of transactional mail,
 * a month of notifications, attachments for a year, archived after a month.
 */
export const DEFAULT_POLICY: RetentionPolicy = {
  content_ttl_days: { outbound: 730, inbound: 730, transactional: 90, notification: 30 },
  attachments_ttl_days: 365,
  archive_after_days: 30,
}

const KIND_COLUMN = {
  outbound: 'outbound_days',
  inbound: 'inbound_days',
  transactional: 'transactional_days',
  notification: 'notification_days',
} as const satisfies Record<ContentKind, string>

type PolicyColumn = (typeof KIND_COLUMN)[ContentKind] | 'attachments_days' | 'archive_after_days'

/**
 * SQL: a tenant's days for one setting, from its policy row `p` (LEFT JOINed): the tenant's
 * value, where NULL means forever, or the default when the tenant has no row.
 */
const days = (column: PolicyColumn, defaultParam: string) => `coalesce(p.${column}, CASE WHEN p.tenant_id IS NULL THEN ${defaultParam}::integer END)`

/** SQL: the rule. Content created at `created` with `days` to live expires then; no days, never. */
const expiry = (created: string, daysExpr: string) => `CASE WHEN (${daysExpr}) IS NULL THEN NULL ELSE ${plusDaysSql(created, `(${daysExpr})`)} END`

/**
 * SQL: when content of `kind` written now under `policy` expires, counted from `since` (a migrated
 * message's original date) or from now. Pushes its parameters onto `params` for the insert
 * statement that uses it; the policy is read first (readPolicy, or readPolicies for many rows),
 * since on a cluster an INSERT cannot hold a subquery.
 */
export function expiresSql(policy: RetentionPolicy, kind: ContentKind, params: unknown[], since?: Date): string {
  const ttl = `$${params.push(policy.content_ttl_days[kind])}::integer`
  const from = since ? `$${params.push(since)}::timestamptz` : 'now()'
  return expiry(from, ttl)
}

/** The policies in force of several tenants, in one statement. */
export async function readPolicies(q: Queryable, tenantIds: readonly string[]): Promise<Map<string, RetentionPolicy>> {
  const rows = await q.query<PolicyRow & { tenant_id: string }>(`SELECT tenant_id, ${POLICY_COLUMNS} FROM content.retention_policies WHERE tenant_id = ANY($1::uuid[])`, [
    [...new Set(tenantIds)],
  ])
  const found = new Map(rows.map((r) => [r.tenant_id, policyOf(r)]))
  return new Map(tenantIds.map((t) => [t, found.get(t) ?? DEFAULT_POLICY]))
}

type PolicyRow = Record<'outbound' | 'inbound' | 'transactional' | 'notification' | 'attachments' | 'archive', number | null>

const POLICY_COLUMNS = `outbound_days AS outbound, inbound_days AS inbound, transactional_days AS transactional,
  notification_days AS notification, attachments_days AS attachments, archive_after_days AS archive`

const policyOf = (r: PolicyRow): RetentionPolicy => ({
  content_ttl_days: { outbound: r.outbound, inbound: r.inbound, transactional: r.transactional, notification: r.notification },
  attachments_ttl_days: r.attachments,
  archive_after_days: r.archive,
})

/** The tenant's policy in force: its own, or the defaults when it never set one. */
export async function readPolicy(q: Queryable, tenantId: string): Promise<RetentionPolicy> {
  const [r] = await q.query<PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM content.retention_policies WHERE tenant_id = $1`, [tenantId])
  return r ? policyOf(r) : DEFAULT_POLICY
}

export async function putPolicy(q: Queryable, tenantId: string, p: RetentionPolicy): Promise<void> {
  const t = p.content_ttl_days
  await q.query(
    `INSERT INTO content.retention_policies AS r (tenant_id, outbound_days, inbound_days, transactional_days, notification_days,
       attachments_days, archive_after_days, updated)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (tenant_id) DO UPDATE SET outbound_days = $2, inbound_days = $3, transactional_days = $4,
       notification_days = $5, attachments_days = $6, archive_after_days = $7, updated = excluded.updated`,
    [tenantId, t.outbound, t.inbound, t.transactional, t.notification, p.attachments_ttl_days, p.archive_after_days],
  )
}

/**
 * Applies the tenant's policy in force to one batch of its live content of a kind (keyset on
 * storage_key), after a policy change. Returns the last key, or null when the kind is done.
 */
export async function recomputeExpiryBatch(q: Queryable, tenantId: string, kind: ContentKind, afterKey: string, limit: number) {
  const ttl = (await readPolicy(q, tenantId)).content_ttl_days[kind]
  const rows = await q.query<{ storage_key: string }>(
    `WITH batch AS (
       SELECT storage_key FROM content.content_objects
        WHERE tenant_id = $1 AND kind = $2 AND content_state = 'present' AND storage_key > $3
        ORDER BY storage_key LIMIT $4)
     UPDATE content.content_objects c
        SET expires = ${expiry('c.created', '$5::integer')}
       FROM batch
      WHERE c.tenant_id = $1 AND c.storage_key = batch.storage_key
     RETURNING c.storage_key`,
    [tenantId, kind, afterKey, limit, ttl],
  )
  return rows.length < limit ? null : rows.map((r) => r.storage_key).sort().at(-1)!
}

/**
 * Live content past its expiry, oldest first, leaving out the messages that pending work still
 * names (by the message id in a message body's key).
 */
export function dueForExpiry(q: Queryable, limit: number, keepMessageIds: readonly string[]) {
  return q.query<{ storage_key: string; tenant_id: string; kind: ContentKind }>(
    `SELECT storage_key, tenant_id, kind FROM content.content_objects
      WHERE expires < now() AND content_state = 'present' AND NOT (${messageIdOfKeySql('storage_key')} = ANY($2::text[]))
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
            headers = NULL, headers_sealed = NULL, key_id = NULL, nonce = NULL, stored_size_bytes = 0, content_state = 'expired'
      WHERE storage_key = ANY($1::text[])`,
    [keys],
  )
  await q.query(`UPDATE content.attachments SET content = NULL, key_id = NULL, nonce = NULL, blob_sha256 = NULL WHERE parent_storage_key = ANY($1::text[])`, [
    keys,
  ])
}

/** Drops the bytes of attachments past their tenant's attachment TTL, a batch at a time. */
export async function expireOldAttachments(q: Queryable, limit: number): Promise<number> {
  const rows = await q.query(
    `WITH due AS (
       SELECT a.id FROM content.attachments a
         LEFT JOIN content.retention_policies p ON p.tenant_id = a.tenant_id
        WHERE (a.content IS NOT NULL OR a.blob_sha256 IS NOT NULL)
          AND ${expiry('a.created', days('attachments_days', '$1'))} < now()
        LIMIT $2)
     UPDATE content.attachments a SET content = NULL, key_id = NULL, nonce = NULL, blob_sha256 = NULL FROM due WHERE a.id = due.id RETURNING a.id`,
    [DEFAULT_POLICY.attachments_ttl_days, limit],
  )
  return rows.length
}

/** Live, unarchived bodies past their tenant's archive-after days, oldest first. */
export function dueForArchive(q: Queryable, limit: number) {
  return q.query<Pick<typeof contentObjects.$inferSelect, (typeof STORED_BODY_COLUMNS)[number]>>(
    `SELECT ${STORED_BODY_COLUMNS.map((c) => `c.${c}`).join(', ')}
       FROM content.content_objects c
       LEFT JOIN content.retention_policies p ON p.tenant_id = c.tenant_id
      WHERE NOT c.archived AND c.content_state = 'present'
        AND ${expiry('c.created', days('archive_after_days', '$1'))} < now()
      ORDER BY c.created LIMIT $2`,
    [DEFAULT_POLICY.archive_after_days, limit],
  )
}

/**
 * Rewrites one body as archived, in whatever packing the archive codec produced, sealed again
 * with its headers under a fresh nonce (a nonce is never reused for other bytes).
 */
export async function storeArchived(q: Queryable, key: string, b: SealedBody): Promise<void> {
  await q.query(
    `UPDATE content.content_objects
        SET compression_type = $2, content_text = $3, content_html = $4, content_text_packed = $5, content_html_packed = $6,
            stored_size_bytes = $7, headers = $8::jsonb, headers_sealed = $9, key_id = $10, nonce = $11, archived = true
      WHERE storage_key = $1 AND NOT archived AND content_state = 'present'`,
    [
      key,
      b.compression_type,
      b.text,
      b.html,
      b.text_packed,
      b.html_packed,
      b.stored_size_bytes,
      b.headers === null || b.headers === undefined ? null : JSON.stringify(b.headers),
      b.headers_sealed,
      b.key_id,
      b.nonce,
    ],
  )
}
