import { inSlices } from '../../db/multi-row.ts'
import type { Queryable } from '../../db/types.ts'
import { STORED_BODY_COLUMNS, type SealedBody } from './sealing.ts'
import { expiresSql, type RetentionPolicy } from './retention.ts'
import type { contentObjects } from './schema.ts'

type ContentObject = typeof contentObjects.$inferSelect

export type ContentKind = ContentObject['kind']

/** What a read of one body needs: everything but the bookkeeping columns. */
const READ_COLUMNS = [
  ...STORED_BODY_COLUMNS,
  'raw_size_bytes',
  'content_state',
  'expires',
  'archived',
] as const

/** Headers are stored as the ordered [{ name, value }] list the write path wrote. */
export type ContentRow = Omit<Pick<ContentObject, (typeof READ_COLUMNS)[number]>, 'headers'> & { headers: { name: string; value: string }[] | null }

/** A body to store (sealed with its headers by src/services/content-seal.ts). */
export interface NewContentObject {
  storageKey: string
  tenantId: string
  kind: ContentKind
  body: SealedBody
  /** Expiry counts from here (a migrated message's original date); default: now. */
  since?: Date
  /** The tenant's, read before the transaction (readPolicy, readPolicies). */
  policy: RetentionPolicy
}

/** Stores a body; its expiry comes from the tenant's retention policy. Returns that expiry. */
export async function insertContentObject(q: Queryable, row: NewContentObject): Promise<Date | null> {
  const [expires] = await insertContentObjects(q, [row])
  return expires!
}

/**
 * Stores several bodies in one multi-row statement (a group commit's, a batch's): one protocol
 * message and one executor start however many, and on Citus each row routed to its shard. One
 * statement text per count, each prepared once. Returns each one's expiry, in order.
 */
export async function insertContentObjects(q: Queryable, rows: readonly NewContentObject[]): Promise<(Date | null)[]> {
  const expiry = new Map<string, Date | null>()
  for (const slice of inSlices(rows)) {
    const params: unknown[] = []
    const p = (v: unknown) => `$${params.push(v)}`
    const values = slice.map((row) => {
      const b = row.body
      const headers = b.headers === null || b.headers === undefined ? null : JSON.stringify(b.headers)
      const cols = [row.storageKey, row.tenantId, row.kind, b.text, b.html, b.text_packed, b.html_packed].map(p)
      const rest = [b.raw_size_bytes, b.stored_size_bytes, b.compression_type, b.headers_sealed, b.key_id, b.nonce].map(p)
      return `(${cols.join(', ')}, ${p(headers)}::jsonb, ${rest.join(', ')}, ${expiresSql(row.policy, row.kind, params, row.since)})`
    })
    const stored = await q.query<{ storage_key: string; expires: Date | null }>(
      `INSERT INTO content.content_objects (storage_key, tenant_id, kind, content_text, content_html, content_text_packed,
         content_html_packed, headers, raw_size_bytes, stored_size_bytes, compression_type, headers_sealed, key_id, nonce, expires)
       VALUES ${values.join(', ')}
       RETURNING storage_key, expires`,
      params,
    )
    for (const r of stored) expiry.set(r.storage_key, r.expires)
  }
  return rows.map((r) => expiry.get(r.storageKey) ?? null)
}

/** Several of a tenant's bodies by key, in one statement (verification reads a batch at a time). */
export function getContentObjects(q: Queryable, tenantId: string, storageKeys: readonly string[]): Promise<ContentRow[]> {
  return q.query<ContentRow>(
    `SELECT ${READ_COLUMNS.join(', ')} FROM content.content_objects WHERE tenant_id = $1 AND storage_key = ANY($2::text[])`,
    [tenantId, storageKeys],
  )
}

/**
 * Gives bodies and their attachments the date they were first written elsewhere (migrated mail),
 * so archive and attachment TTLs count from it. Only once their refs exist: an old `created`
 * before that would let the orphan collector take content whose ref is about to commit.
 */
export async function backdateContent(q: Queryable, tenantId: string, keys: readonly string[], dates: readonly Date[]): Promise<void> {
  if (keys.length === 0) return
  const params = [tenantId, keys, dates.map((d) => d.toISOString())]
  await q.query(
    `UPDATE content.content_objects c SET created = d.created
       FROM unnest($2::text[], $3::timestamptz[]) AS d(storage_key, created)
      WHERE c.tenant_id = $1 AND c.storage_key = d.storage_key`,
    params,
  )
  await q.query(
    `UPDATE content.attachments a SET created = d.created
       FROM unnest($2::text[], $3::timestamptz[]) AS d(storage_key, created)
      WHERE a.tenant_id = $1 AND a.parent_storage_key = d.storage_key`,
    params,
  )
}

export async function getContentObject(q: Queryable, tenantId: string, storageKey: string): Promise<ContentRow | undefined> {
  const rows = await q.query<ContentRow>(
    `SELECT ${READ_COLUMNS.join(', ')} FROM content.content_objects WHERE tenant_id = $1 AND storage_key = $2`,
    [tenantId, storageKey],
  )
  return rows[0]
}

/** Keys of a tenant's message bodies created before a moment, in key order (orphan scans). */
export function listMessageContentKeysBefore(q: Queryable, tenantId: string, before: Date, limit: number, afterKey = '') {
  return q.query<{ storage_key: string; created: Date }>(
    `SELECT storage_key, created FROM content.content_objects
      WHERE tenant_id = $1 AND kind IN ('inbound', 'outbound') AND created < $2 AND storage_key > $3
      ORDER BY storage_key LIMIT $4`,
    [tenantId, before, afterKey, limit],
  )
}

/** Tenants that own any content: orphan scans walk tenant by tenant. */
export function listContentTenants(q: Queryable) {
  return q.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM content.content_objects`)
}

/** Deletes a tenant's content objects (attachments cascade), only those created before `before`. */
export async function deleteContentObjects(q: Queryable, tenantId: string, keys: readonly string[], before: Date): Promise<number> {
  if (keys.length === 0) return 0
  const rows = await q.query(
    `DELETE FROM content.content_objects WHERE tenant_id = $1 AND storage_key = ANY($2::text[]) AND created < $3
     RETURNING storage_key`,
    [tenantId, keys, before],
  )
  return rows.length
}

/**
 * Deletes one object no ref can ever name (its write lost a race to an earlier copy); attachments
 * cascade, and their blobs are collected with the other unreferenced ones.
 */
export async function deleteContentObject(q: Queryable, tenantId: string, storageKey: string): Promise<void> {
  await q.query(`DELETE FROM content.content_objects WHERE tenant_id = $1 AND storage_key = $2`, [tenantId, storageKey])
}

/**
 * Which of these keys already hold a body, with when it was written and when it expires: what a
 * migration batch finds left by an attempt that crashed before its refs committed.
 */
export function existingContent(q: Queryable, tenantId: string, keys: readonly string[]) {
  if (keys.length === 0) return Promise.resolve([])
  return q.query<{ storage_key: string; created: Date; expires: Date | null }>(
    `SELECT storage_key, created, expires FROM content.content_objects WHERE tenant_id = $1 AND storage_key = ANY($2::text[])`,
    [tenantId, keys],
  )
}
