/** Tenants and their API keys: created by the operator, resolved on every request. */
import type { Deps } from '../deps.ts'
import { newApiKey, newId, sha256Hex } from '../ids.ts'
import { findTenantIdByKeyHash, insertApiKey, insertTenant } from '../tiers/oltp/tenants.ts'

/** A tenant and its first API key, in one transaction; the key is returned once and only its hash is kept. */
export async function createTenant(deps: Deps, name: string) {
  const key = newApiKey()
  const tenant = await deps.tiers.oltp.transaction(async (tx) => {
    const row = await insertTenant(tx, newId(), name)
    await insertApiKey(tx, { id: newId(), tenantId: row.id, keyHash: key.hash, prefix: key.prefix, name: 'default' })
    return row
  })
  return { tenant, api_key: key.key }
}

/** The tenant an API key belongs to, if the key is known, unrevoked and its tenant active. */
export const tenantForApiKey = (deps: Deps, apiKey: string) => findTenantIdByKeyHash(deps.tiers.oltp, sha256Hex(apiKey))
