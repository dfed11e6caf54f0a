/** API keys: stored as sha256 hashes with their scopes, and the shared rate-limit buckets. */
import type { Queryable } from '../../db/types.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { apiKeys } from './schema.ts'

export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, 'key_hash'>

const COLUMNS = selectList(apiKeys, { except: ['key_hash'] })

export interface NewApiKey {
  id: string
  tenantId: string
  keyHash: string
  prefix: string
  name: string | null
  scopes: readonly string[]
  expiresAt: Date | null
}

export async function insertApiKey(q: Queryable, k: NewApiKey): Promise<ApiKeyRow> {
  const rows = await q.query<ApiKeyRow>(
    `INSERT INTO oltp.api_keys (id, tenant_id, key_hash, prefix, name, scopes, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7) RETURNING ${COLUMNS}`,
    [k.id, k.tenantId, k.keyHash, k.prefix, k.name, k.scopes, k.expiresAt],
  )
  return rows[0]!
}

/** What a request authenticates as: the key, its tenant (and whether it is active), its scopes, and the tenant's limits. */
export interface KeyPrincipal {
  key_id: string
  tenant_id: string
  tenant_status: string
  scopes: string[]
  expires_at: Date | null
  rate_limit_per_s: number | null
  rate_limit_burst: number | null
}

/** The unrevoked key with this hash and its tenant's status; runs on every authenticated request. */
export async function findKeyByHash(q: Queryable, keyHash: string): Promise<KeyPrincipal | undefined> {
  const rows = await q.query<KeyPrincipal>(
    `SELECT k.id AS key_id, k.tenant_id, t.status AS tenant_status, k.scopes, k.expires_at, t.rate_limit_per_s, t.rate_limit_burst
       FROM oltp.api_keys k JOIN oltp.tenants t ON t.id = k.tenant_id
      WHERE k.key_hash = $1 AND k.revoked IS NULL`,
    [keyHash],
  )
  return rows[0]
}

/** A tenant's keys, revoked ones included (an audit wants to see them), newest first. */
export function listApiKeys(q: Queryable, tenantId: string, page: { limit: number; before?: string }) {
  return keysetList<ApiKeyRow>(q, { from: 'oltp.api_keys', select: COLUMNS, tenantId, ...page })
}

/** Revokes a key of the tenant; undefined when the tenant has no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(q: Queryable, tenantId: string, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  const rows = await q.query<ApiKeyRow>(
    `UPDATE oltp.api_keys SET revoked = coalesce(revoked, $3) WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, at],
  )
  return rows[0]
}

/** Records when keys were last used, many keys in one statement; a time never moves back. */
export async function recordKeyUse(q: Queryable, uses: ReadonlyMap<string, Date>): Promise<void> {
  if (uses.size === 0) return
  await q.query(
    `UPDATE oltp.api_keys k SET last_used_at = greatest(k.last_used_at, u.at)
       FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id`,
    [[...uses.keys()], [...uses.values()].map((d) => d.toISOString())],
  )
}

/**
 * Takes up to `want` whole tokens from a key's bucket (refilled at `rate` per second up to
 * `burst` since it was last touched), in one statement. The row lock serializes processes
 * leasing for the same key; a bucket starts full. Returns what was granted and what is left.
 */
export async function leaseTokens(
  q: Queryable,
  b: { keyId: string; want: number; rate: number; burst: number; now: Date },
): Promise<{ granted: number; left: number }> {
  const [row] = await q.query<{ granted: number; left: number }>(
    `WITH prev AS (
       SELECT tokens, refilled_at FROM oltp.rate_buckets WHERE key_id = $1 FOR UPDATE
     ), avail AS (
       SELECT coalesce((SELECT least($4::float8, tokens + greatest(0, extract(epoch FROM $5::timestamptz - refilled_at)) * $3::float8)
                          FROM prev), $4::float8) AS a
     ), grant_ AS (
       SELECT a, least($2::int, floor(a))::int AS g FROM avail
     ), saved AS (
       INSERT INTO oltp.rate_buckets AS b (key_id, tokens, refilled_at) SELECT $1, a - g, $5 FROM grant_
       ON CONFLICT (key_id) DO UPDATE SET tokens = excluded.tokens, refilled_at = excluded.refilled_at
     )
     SELECT g AS granted, (a - g)::float8 AS left FROM grant_`,
    [b.keyId, b.want, b.rate, b.burst, b.now],
  )
  return row!
}
