import type { Queryable } from '../../db/types.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { leads } from './schema.ts'

export type LeadRow = typeof leads.$inferSelect

const COLUMNS = selectList(leads)

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

/** By email it is a lookup on the unique (tenant_id, lower(email)) index. */
export function listLeads(q: Queryable, tenantId: string, page: { limit: number; before?: string }, email?: string) {
  const byEmail = email === undefined ? undefined : { sql: (p: string) => `lower(email) = lower(${p})`, value: email }
  return keysetList<LeadRow>(q, { from: 'oltp.leads', select: COLUMNS, tenantId, where: [byEmail], ...page })
}
