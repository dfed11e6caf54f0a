/** Leads: the people a tenant's sequences write to; one per address, compared without case. */
import type { Deps } from '../deps.ts'
import { conflict } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { insertLead, listLeads as listRows } from '../tiers/oltp/leads.ts'

export async function createLead(deps: Deps, tenantId: string, l: { email: string; first_name?: string | null; last_name?: string | null }) {
  const row = await insertLead(deps.tiers.oltp, {
    tenantId,
    id: newId(),
    email: l.email,
    firstName: l.first_name ?? null,
    lastName: l.last_name ?? null,
  })
  if (!row) throw conflict('this tenant already has a lead with that email', 'email')
  return row
}

/** Newest first; with an email, the one lead with that address (or none). */
export async function listLeads(deps: Deps, tenantId: string, page: PageRequest, email?: string) {
  return paged(page, (keyset) => listRows(deps.tiers.oltp, tenantId, keyset, email))
}
