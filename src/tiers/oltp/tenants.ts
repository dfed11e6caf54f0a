import type { Queryable } from '../../db/types.ts'
import { selectList } from '../columns.ts'
import { tenants } from './schema.ts'

export type TenantRow = Omit<typeof tenants.$inferSelect, 'updated'>

const COLUMNS = selectList(tenants, { except: ['updated'] })

export async function insertTenant(q: Queryable, id: string, name: string): Promise<TenantRow> {
  const rows = await q.query<TenantRow>(`INSERT INTO oltp.tenants (id, name) VALUES ($1, $2) RETURNING ${COLUMNS}`, [id, name])
  return rows[0]!
}

export interface TenantLimits {
  rate_limit_per_s?: number | null
  rate_limit_burst?: number | null
}

/**
 * Sets a tenant's own rate limits: a limit left undefined keeps its value, null restores the
 * default. Undefined when there is no such tenant.
 */
export async function setTenantLimits(q: Queryable, id: string, limits: TenantLimits): Promise<TenantRow | undefined> {
  const rows = await q.query<TenantRow>(
    `UPDATE oltp.tenants
        SET rate_limit_per_s = CASE WHEN $2 THEN $3::int ELSE rate_limit_per_s END,
            rate_limit_burst = CASE WHEN $4 THEN $5::int ELSE rate_limit_burst END, updated = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, limits.rate_limit_per_s !== undefined, limits.rate_limit_per_s ?? null, limits.rate_limit_burst !== undefined, limits.rate_limit_burst ?? null],
  )
  return rows[0]
}

export async function getTenant(q: Queryable, id: string): Promise<TenantRow | undefined> {
  const rows = await q.query<TenantRow>(`SELECT ${COLUMNS} FROM oltp.tenants WHERE id = $1`, [id])
  return rows[0]
}

/** The tenant row locked for the caller's transaction: a status change and what it starts commit together. */
export async function lockTenant(tx: Queryable, id: string): Promise<TenantRow | undefined> {
  const rows = await tx.query<TenantRow>(`SELECT ${COLUMNS} FROM oltp.tenants WHERE id = $1 FOR UPDATE`, [id])
  return rows[0]
}

export async function setTenantStatus(q: Queryable, id: string, status: TenantRow['status']): Promise<TenantRow | undefined> {
  const rows = await q.query<TenantRow>(`UPDATE oltp.tenants SET status = $2, updated = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, status])
  return rows[0]
}

/** Every tenant, newest first (ids are UUIDv7), keyset-paginated like the tenant listings. */
export function listTenants(q: Queryable, page: { limit: number; before?: string }): Promise<TenantRow[]> {
  const params: unknown[] = [page.limit + 1]
  const older = page.before === undefined ? '' : `WHERE id < $${params.push(page.before)}::uuid`
  return q.query<TenantRow>(`SELECT ${COLUMNS} FROM oltp.tenants ${older} ORDER BY id DESC LIMIT $1`, params)
}
