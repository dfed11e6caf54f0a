/**
 * Leads: the people a tenant's sequences write to; one per address, compared without case. A lead
 * that messages name is never deleted (409): its history stays with it, and its status says it is
 * out of use. Deleting a person's data everywhere is an erasure, not this.
 */
import { readerOf } from '../db/tiers.ts'
import type { Deps } from '../deps.ts'
import { audit, changed } from './audit.ts'
import { conflict, conflictWith, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { deleteLead as deleteRow, getLead as getRow, insertLead, listLeads as listRows, updateLead as updateRow } from '../tiers/oltp/leads.ts'

/** active: to be written to; paused: not for now; archived: out of use, kept with its history. */
export const LEAD_STATUSES = ['active', 'paused', 'archived'] as const

export interface LeadFields {
  email: string
  first_name?: string | null
  last_name?: string | null
}

export async function createLead(deps: Deps, tenantId: string, l: LeadFields) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await insertLead(tx, {
      tenantId,
      id: newId(),
      email: l.email,
      firstName: l.first_name ?? null,
      lastName: l.last_name ?? null,
    })
    if (!row) throw conflict('this tenant already has a lead with that email', 'email')
    await audit(tx, { tenantId, action: 'lead.create', targetType: 'lead', targetId: row.id })
    return row
  })
}

/** Newest first; with an email, the one lead with that address (or none). */
export async function listLeads(deps: Deps, tenantId: string, page: PageRequest, email?: string) {
  return paged(page, (keyset) => listRows(readerOf(deps.tiers, 'oltp'), tenantId, keyset, email))
}

export async function getLead(deps: Deps, tenantId: string, id: string) {
  const row = await getRow(deps.tiers.oltp, tenantId, id)
  if (!row) throw notFound('lead')
  return row
}

/** A field left out keeps its value; null clears a name. A new email must be free in the tenant (409). */
export async function updateLead(deps: Deps, tenantId: string, id: string, patch: Partial<LeadFields> & { status?: (typeof LEAD_STATUSES)[number] }) {
  if (Object.values(patch).every((v) => v === undefined)) return getLead(deps, tenantId, id)
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await updateRow(tx, tenantId, id, {
      email: patch.email,
      firstName: patch.first_name,
      lastName: patch.last_name,
      status: patch.status,
    })
    if (row === 'conflict') throw conflict('this tenant already has a lead with that email', 'email')
    if (!row) throw notFound('lead')
    await audit(tx, { tenantId, action: 'lead.update', targetType: 'lead', targetId: id, detail: changed(patch) })
    return row
  })
}

export async function deleteLead(deps: Deps, tenantId: string, id: string): Promise<void> {
  await deps.tiers.oltp.transaction(async (tx) => {
    const result = await deleteRow(tx, tenantId, id)
    if (result === 'missing') throw notFound('lead')
    if (result === 'in_use') throw conflictWith('messages name this lead; archive it instead (status archived)', 'id', 'has messages')
    await audit(tx, { tenantId, action: 'lead.delete', targetType: 'lead', targetId: id })
  })
}
