/**
 * Erasure requests through the API: a tenant asks to erase a person (by address or lead), the
 * operator deletes a tenant; both are read back with their counts per tier. The request, its
 * audit record and its job commit in one OLTP transaction (the job through the outbox when the
 * queue is another database), so an accepted request always runs.
 */
import type { Queryable } from '../../db/types.ts'
import type { Deps } from '../../deps.ts'
import { conflictWith, invalid, notFound } from '../../errors.ts'
import { newId } from '../../ids.ts'
import { paged, type PageRequest } from '../../pagination.ts'
import { addressSha256, normalizeAddress } from '../../redaction.ts'
import { audit } from '../audit.ts'
import { findEmailAccountsByAddress } from '../../tiers/oltp/email-accounts.ts'
import {
  getTenantErasureRequest,
  insertErasureRequest,
  latestTenantDeletion,
  listPersonErasures,
  type ErasureRequestRow,
  type NewErasureRequest,
  type TierCounts,
} from '../../tiers/oltp/erasure-requests.ts'
import { getLead } from '../../tiers/oltp/leads.ts'
import { leadIdByEmail } from '../../tiers/oltp/person-erasure.ts'
import { lockTenant, setTenantStatus } from '../../tiers/oltp/tenants.ts'
import { enqueueWithinOltp } from '../outbox.ts'
import type { OutboxRow } from '../../tiers/oltp/outbox.ts'
import { personPlan, PERSON_COUNTS } from './person.ts'
import { tenantPlan } from './tenant.ts'

/** A request as the API shows it: never the address, only its hash. */
const view = (r: ErasureRequestRow) => ({
  id: r.id,
  status: r.status,
  requested_at: r.requested_at,
  completed_at: r.completed_at,
  tiers: r.counts as TierCounts,
})

export const personView = (r: ErasureRequestRow) => ({ ...view(r), email_sha256: r.email_sha256, lead_id: r.lead_id })
export const tenantDeletionView = (r: ErasureRequestRow) => ({ ...view(r), tenant_id: r.tenant_id })

/** Records the request with its audit entry and its job, in the caller's OLTP transaction; an unfinished one is answered instead. */
async function record(deps: Deps, tx: Queryable, r: NewErasureRequest, action: string): Promise<{ row: ErasureRequestRow; outboxed: OutboxRow[] }> {
  const { row, created } = await insertErasureRequest(tx, r)
  if (!created) return { row, outboxed: [] }
  await audit(tx, { tenantId: r.tenantId, actor: r.requestedBy, action, targetType: 'erasure_request', targetId: row.id, detail: { kind: r.kind } })
  return { row, outboxed: await enqueueWithinOltp(deps.tiers, tx, row.tenant_id, 'erasure.run', { request_id: row.id }) }
}

export type PersonToErase = { email: string; lead_id?: undefined } | { lead_id: string; email?: undefined }

/**
 * Accepts the erasure of a person: by address, or by the lead whose address it is. The tenant's
 * own mailboxes are not people it holds data about (they send its mail): refused, naming email.
 */
export async function requestPersonErasure(deps: Deps, tenantId: string, who: PersonToErase, actor: string) {
  const oltp = deps.tiers.oltp
  let email: string
  if (who.lead_id !== undefined) {
    const lead = await getLead(oltp, tenantId, who.lead_id)
    if (!lead) throw notFound('lead', 'lead_id')
    email = normalizeAddress(lead.email)
  } else {
    email = normalizeAddress(who.email)
  }
  if ((await findEmailAccountsByAddress(oltp, tenantId, [email])).length) {
    throw invalid('this address is one of the tenant’s own mailboxes, not a person to erase', who.lead_id ? 'lead_id' : 'email', 'is a mailbox of this tenant')
  }
  const leadId = who.lead_id ?? (await leadIdByEmail(oltp, tenantId, email)) ?? null
  const { row, outboxed } = await oltp.transaction((tx) =>
    record(
      deps,
      tx,
      {
        id: newId(),
        tenantId,
        kind: 'person',
        emailSha256: addressSha256(email),
        email,
        leadId,
        requestedBy: actor,
        stage: personPlan.stages[0]!.name,
        counts: PERSON_COUNTS,
      },
      'erasure.request',
    ),
  )
  deps.outbox.publish(outboxed)
  return personView(row)
}

export async function getPersonErasure(deps: Deps, tenantId: string, id: string) {
  const row = await getTenantErasureRequest(deps.tiers.oltp, tenantId, 'person', id)
  if (!row) throw notFound('erasure request')
  return personView(row)
}

export async function listErasures(deps: Deps, tenantId: string, page: PageRequest) {
  const result = await paged(page, (keyset) => listPersonErasures(deps.tiers.oltp, tenantId, keyset))
  return { ...result, data: result.data.map(personView) }
}

/**
 * Starts deleting a suspended tenant: it moves to `deleting` (its keys stay refused, and it can
 * no longer be made active) in the transaction that records the request. A tenant still active
 * is refused (409 naming status): suspending first is the step that can be undone.
 */
export async function requestTenantDeletion(deps: Deps, tenantId: string, actor: string) {
  const { row, outboxed } = await deps.tiers.oltp.transaction(async (tx) => {
    const tenant = await lockTenant(tx, tenantId)
    if (!tenant) throw notFound('tenant', 'id')
    if (tenant.status === 'active') throw conflictWith('suspend the tenant before deleting it', 'status', 'is active; PATCH it to suspended first')
    if (tenant.status !== 'deleting') await setTenantStatus(tx, tenantId, 'deleting')
    return record(
      deps,
      tx,
      { id: newId(), tenantId, kind: 'tenant', emailSha256: null, email: null, leadId: null, requestedBy: actor, stage: tenantPlan.stages[0]!.name, counts: { oltp: {}, content: {}, analytics: {}, queue: {} } },
      'tenant.delete',
    )
  })
  deps.outbox.publish(outboxed)
  return tenantDeletionView(row)
}

/** The tenant's deletion, also once the tenant itself is gone. */
export async function getTenantDeletion(deps: Deps, tenantId: string) {
  const row = await latestTenantDeletion(deps.tiers.oltp, tenantId)
  if (!row) throw notFound('deletion of this tenant')
  return tenantDeletionView(row)
}
