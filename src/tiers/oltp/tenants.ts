import type { Queryable } from '../../db/types.ts'
import { tenants } from './schema.ts'

export type TenantRow = Omit<typeof tenants.$inferSelect, 'updated'>

export async function insertTenant(q: Queryable, id: string, name: string): Promise<TenantRow> {
  const rows = await q.query<TenantRow>(`INSERT INTO oltp.tenants (id, name) VALUES ($1, $2) RETURNING id, name, status, created`, [id, name])
  return rows[0]!
}

export async function insertApiKey(
  q: Queryable,
  key: { id: string; tenantId: string; keyHash: string; prefix: string; name: string | null },
): Promise<void> {
  await q.query(`INSERT INTO oltp.api_keys (id, tenant_id, key_hash, prefix, name) VALUES ($1, $2, $3, $4, $5)`, [
    key.id,
    key.tenantId,
    key.keyHash,
    key.prefix,
    key.name,
  ])
}

/** The tenant an unrevoked key belongs to; runs on every authenticated request. */
export async function findTenantIdByKeyHash(q: Queryable, keyHash: string): Promise<string | undefined> {
  const rows = await q.query<{ tenant_id: string }>(
    `SELECT k.tenant_id FROM oltp.api_keys k JOIN oltp.tenants t ON t.id = k.tenant_id
      WHERE k.key_hash = $1 AND k.revoked IS NULL AND t.status = 'active'`,
    [keyHash],
  )
  return rows[0]?.tenant_id
}
