/**
 * Tenants' data keys (content.tenant_keys), stored wrapped by a master key. One key per tenant,
 * for its life: a destroyed key's row stays (wrapped_key NULL) until the tenant's last content
 * row is gone, so no write that slips in during a deletion can make the tenant a new key.
 */
import type { Queryable } from '../../db/types.ts'
import type { tenantKeys } from './schema.ts'

export type TenantKeyRow = typeof tenantKeys.$inferSelect

export async function getTenantKey(q: Queryable, tenantId: string): Promise<TenantKeyRow | undefined> {
  const rows = await q.query<TenantKeyRow>(`SELECT * FROM content.tenant_keys WHERE tenant_id = $1`, [tenantId])
  return rows[0]
}

/** Stores a new tenant's key unless one already exists (a concurrent first write won); returns the tenant's key row. */
export async function insertTenantKey(q: Queryable, r: { tenantId: string; keyId: string; wrapped: Uint8Array; fingerprint: string }): Promise<TenantKeyRow> {
  await q.query(
    `INSERT INTO content.tenant_keys (tenant_id, key_id, wrapped_key, master_fingerprint) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id) DO NOTHING`,
    [r.tenantId, r.keyId, r.wrapped, r.fingerprint],
  )
  return (await getTenantKey(q, r.tenantId))!
}

/**
 * Crypto-shredding: overwrites the tenant's wrapped key (or records a destroyed one when it never
 * had one), so its content cannot be decrypted from this database or any copy taken from now on.
 */
export async function destroyTenantKey(q: Queryable, tenantId: string): Promise<void> {
  await q.query(
    `INSERT INTO content.tenant_keys AS k (tenant_id, key_id, wrapped_key, master_fingerprint, destroyed_at)
     VALUES ($1, gen_random_uuid(), NULL, NULL, now())
     ON CONFLICT (tenant_id) DO UPDATE SET wrapped_key = NULL, master_fingerprint = NULL, destroyed_at = coalesce(k.destroyed_at, excluded.destroyed_at)`,
    [tenantId],
  )
}

/** The key's row (destroyed first), once the tenant's content rows are all gone. */
export async function deleteTenantKey(q: Queryable, tenantId: string): Promise<number> {
  const rows = await q.query(`DELETE FROM content.tenant_keys WHERE tenant_id = $1 RETURNING 1`, [tenantId])
  return rows.length
}

/** Keys not yet wrapped by the master with this fingerprint, by tenant id from `afterTenant`. */
export function keysToRewrap(q: Queryable, fingerprint: string, afterTenant: string, limit: number) {
  return q.query<Pick<TenantKeyRow, 'tenant_id' | 'key_id' | 'master_fingerprint'> & { wrapped_key: Uint8Array }>(
    `SELECT tenant_id, key_id, master_fingerprint, wrapped_key FROM content.tenant_keys
      WHERE wrapped_key IS NOT NULL AND master_fingerprint <> $1 AND tenant_id > $2::uuid
      ORDER BY tenant_id LIMIT $3`,
    [fingerprint, afterTenant, limit],
  )
}

/** Replaces a wrapped key, only if it is still the one read (a key destroyed meanwhile stays destroyed). */
export async function rewrapTenantKey(q: Queryable, r: { tenantId: string; fromFingerprint: string; wrapped: Uint8Array; fingerprint: string }): Promise<boolean> {
  const rows = await q.query(
    `UPDATE content.tenant_keys SET wrapped_key = $3, master_fingerprint = $4, rewrapped = now()
      WHERE tenant_id = $1 AND master_fingerprint = $2 AND wrapped_key IS NOT NULL RETURNING 1`,
    [r.tenantId, r.fromFingerprint, r.wrapped, r.fingerprint],
  )
  return rows.length === 1
}

/** Keys per master fingerprint, and destroyed ones (`keys status`). */
export function keyCounts(q: Queryable) {
  return q.query<{ master_fingerprint: string | null; keys: number }>(
    `SELECT master_fingerprint, count(*)::int AS keys FROM content.tenant_keys GROUP BY master_fingerprint ORDER BY master_fingerprint NULLS LAST`,
  )
}

/** Live (not destroyed) keys by tenant id from `afterTenant`: what the doctor tries to open. */
export function liveKeys(q: Queryable, afterTenant: string, limit: number) {
  return q.query<Pick<TenantKeyRow, 'tenant_id' | 'key_id' | 'master_fingerprint'> & { wrapped_key: Uint8Array }>(
    `SELECT tenant_id, key_id, master_fingerprint, wrapped_key FROM content.tenant_keys
      WHERE wrapped_key IS NOT NULL AND tenant_id > $1::uuid ORDER BY tenant_id LIMIT $2`,
    [afterTenant, limit],
  )
}
