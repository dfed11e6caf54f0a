import type { Queryable } from '../../db/types.ts'

export interface LeadRow {
  id: string
  tenant_id: string
  email: string
  first_name: string | null
  last_name: string | null
  status: string
  created: Date
  updated: Date
}

const COLUMNS = 'id, tenant_id, email, first_name, last_name, status, created, updated'

/** Returns undefined when the tenant already has a lead with this email (case-insensitive). */
export async function insertLead(
  q: Queryable,
  row: { tenantId: string; id: string; email: string; firstName: string | null; lastName: string | null },
): Promise<LeadRow | undefined> {
  const rows = await q.query<LeadRow>(
    `INSERT INTO oltp.leads (tenant_id, id, email, first_name, last_name) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [row.tenantId, row.id, row.email, row.firstName, row.lastName],
  )
  return rows[0]
}

/** By email it is a lookup on the unique (tenant_id, lower(email)) index; as with messages, only the filters given are in the SQL. */
export function listLeads(q: Queryable, tenantId: string, limit: number, before?: string, email?: string) {
  const params: unknown[] = [tenantId]
  const where = ['tenant_id = $1']
  if (before !== undefined) where.push(`id < $${params.push(before)}::uuid`)
  if (email !== undefined) where.push(`lower(email) = lower($${params.push(email)})`)
  return q.query<LeadRow>(
    `SELECT ${COLUMNS} FROM oltp.leads WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.push(limit + 1)}`,
    params,
  )
}
