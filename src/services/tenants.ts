/** Tenants: created by the operator with a first key that holds every scope; limits set per tenant. */
import type { Deps } from '../deps.ts'
import { notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { SCOPES } from '../scopes.ts'
import { insertTenant, setTenantLimits, type TenantLimits } from '../tiers/oltp/tenants.ts'
import { createApiKey } from './api-keys.ts'

/** A tenant and its first API key, in one transaction; the key is returned once and only its hash is kept. */
export async function createTenant(deps: Deps, name: string) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const tenant = await insertTenant(tx, newId(), name)
    const key = await createApiKey(deps, tenant.id, { name: 'default', scopes: SCOPES }, tx)
    return { tenant, api_key: key.key }
  })
}

/** A tenant's own request rate and burst per key; null puts the default back, undefined keeps it. */
export async function setLimits(deps: Deps, tenantId: string, limits: TenantLimits) {
  const row = await setTenantLimits(deps.tiers.oltp, tenantId, limits)
  if (!row) throw notFound('tenant', 'id')
  return row
}
