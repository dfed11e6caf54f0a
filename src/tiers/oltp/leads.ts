import type { Queryable } from '../../db/types.ts'
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.ts'
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

export async function getLead(q: Queryable, tenantId: string, id: string): Promise<LeadRow | undefined> {
  const rows = await q.query<LeadRow>(`SELECT ${COLUMNS} FROM oltp.leads WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return rows[0]
}

export interface LeadPatch {
  email?: string
  firstName?: string | null
  lastName?: string | null
  status?: string
}

/** A field left undefined keeps its value; `conflict` when another lead of the tenant has that email. */
export async function updateLead(q: Queryable, tenantId: string, id: string, p: LeadPatch): Promise<LeadRow | undefined | 'conflict'> {
  try {
    const rows = await q.query<LeadRow>(
      `UPDATE oltp.leads
          SET email = COALESCE($3::varchar, email),
              first_name = CASE WHEN $4::boolean THEN $5::varchar ELSE first_name END,
              last_name = CASE WHEN $6::boolean THEN $7::varchar ELSE last_name END,
              status = COALESCE($8::varchar, status), updated = now()
        WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id, p.email ?? null, p.firstName !== undefined, p.firstName ?? null, p.lastName !== undefined, p.lastName ?? null, p.status ?? null],
    )
    return rows[0]
  } catch (e) {
    if (isUniqueViolation(e)) return 'conflict'
    throw e
  }
}

/** `in_use` when messages name the lead: their foreign key keeps it. */
export async function deleteLead(q: Queryable, tenantId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
  try {
    const rows = await q.query(`DELETE FROM oltp.leads WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id])
    return rows.length ? 'deleted' : 'missing'
  } catch (e) {
    if (isForeignKeyViolation(e)) return 'in_use'
    throw e
  }
}

export interface ImportedLead {
  id: string
  email: string
  firstName: string | null
  lastName: string | null
}

/**
 * Inserts the leads whose address is new to the tenant and fills in the names of those it has:
 * a null name keeps the stored one, and a lead whose names would not change is not written at
 * all (no new row version, `updated` unchanged). The addresses must be distinct (case-insensitive)
 * within one call. Returns how many were created and how many updated; the rest were unchanged.
 */
export async function upsertLeads(q: Queryable, tenantId: string, leads: readonly ImportedLead[]): Promise<{ created: number; updated: number }> {
  if (leads.length === 0) return { created: 0, updated: 0 }
  // xmax is 0 on a row version this statement inserted, and set on one it updated. Rows go in
  // address order, so two imports overlapping in addresses lock them in the same order.
  const rows = await q.query<{ inserted: boolean }>(
    `INSERT INTO oltp.leads AS l (tenant_id, id, email, first_name, last_name, updated)
     SELECT $1, u.id, u.email, u.first_name, u.last_name, now()
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS u(id, email, first_name, last_name)
      ORDER BY lower(u.email)
     ON CONFLICT (tenant_id, lower(email)) DO UPDATE
        SET first_name = COALESCE(EXCLUDED.first_name, l.first_name),
            last_name = COALESCE(EXCLUDED.last_name, l.last_name), updated = EXCLUDED.updated
      WHERE (COALESCE(EXCLUDED.first_name, l.first_name), COALESCE(EXCLUDED.last_name, l.last_name))
            IS DISTINCT FROM (l.first_name, l.last_name)
     RETURNING (l.xmax = 0) AS inserted`,
    [tenantId, leads.map((r) => r.id), leads.map((r) => r.email), leads.map((r) => r.firstName), leads.map((r) => r.lastName)],
  )
  const created = rows.filter((r) => r.inserted).length
  return { created, updated: rows.length - created }
}
