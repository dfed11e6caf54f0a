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

export function listLeads(q: Queryable, tenantId: string, limit: number, before?: string, email?: string) {
  return q.query<LeadRow>(
    `SELECT ${COLUMNS} FROM oltp.leads
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) AND ($3::text IS NULL OR lower(email) = lower($3))
      ORDER BY id DESC LIMIT $4`,
    [tenantId, before ?? null, email ?? null, limit + 1],
  )
}
