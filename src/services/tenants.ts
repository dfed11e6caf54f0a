/**
 * Tenants: created by the operator with a first key that holds every scope; limits set per tenant;
 * suspended (its keys answer 403 at once) and made active again; listed. Deleting one is an
 * erasure request (src/services/erasure/requests.ts).
 */
import type { Deps } from '../deps.ts'
import { conflictWith, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { SCOPES } from '../scopes.ts'
import { insertTenant, listTenants as listRows, lockTenant, setTenantLimits, setTenantStatus, type TenantLimits } from '../tiers/oltp/tenants.ts'
import { issueApiKey } from './api-keys.ts'
import { audit, changed } from './audit.ts'

/** A tenant and its first API key, in one transaction; the key is returned once and only its hash is kept. */
export async function createTenant(deps: Deps, name: string) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const tenant = await insertTenant(tx, newId(), name)
    const key = await issueApiKey(deps, tenant.id, { name: 'default', scopes: SCOPES }, tx)
    await audit(tx, { tenantId: tenant.id, action: 'tenant.create', targetType: 'tenant', targetId: tenant.id, detail: { api_key_id: key.id } })
    return { tenant, api_key: key.key }
  })
}

export interface TenantChange extends TenantLimits {
  /** What the operator may set; `deleting` comes only from a deletion, and never goes back. */
  status?: 'active' | 'suspended'
}

/**
 * A tenant's own request rate and burst per key (null puts the default back, undefined keeps it),
 * and its status. A tenant being deleted cannot change: 409 naming status.
 */
export async function updateTenant(deps: Deps, tenantId: string, change: TenantChange) {
  const { status, ...limits } = change
  return deps.tiers.oltp.transaction(async (tx) => {
    const tenant = await lockTenant(tx, tenantId)
    if (!tenant) throw notFound('tenant', 'id')
    if (tenant.status === 'deleting') throw conflictWith('this tenant is being deleted', 'status', 'is deleting')
    const moves = status !== undefined && status !== tenant.status
    if (moves) await setTenantStatus(tx, tenantId, status)
    const row = (await setTenantLimits(tx, tenantId, limits))!
    // Suspending and reactivating are their own actions: an operator looks for them by name.
    const action = moves ? (status === 'suspended' ? 'tenant.suspend' : 'tenant.activate') : 'tenant.update'
    await audit(tx, { tenantId, action, targetType: 'tenant', targetId: tenantId, detail: { ...changed(change), ...(moves ? { from: tenant.status } : {}) } })
    return row
  })
}

export async function listTenants(deps: Deps, page: PageRequest) {
  return paged(page, (keyset) => listRows(deps.tiers.oltp, keyset))
}
