/**
 * API keys: a tenant's own keys with scopes and an optional expiry, created (shown once),
 * listed and revoked through the API, and resolved on every request.
 */
import type { Deps } from '../deps.ts'
import { audit } from './audit.ts'
import { AppError, invalid, notFound } from '../errors.ts'
import { newApiKey, newId, sha256Hex } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import type { Scope } from '../scopes.ts'
import type { Queryable } from '../db/types.ts'
import { findKeyByHash, insertApiKey, listApiKeys, recordKeyUse, revokeApiKey, type KeyPrincipal } from '../tiers/oltp/api-keys.ts'

export interface NewKeyRequest {
  name: string | null
  scopes: readonly Scope[]
  expires_at?: string | null
}

/** Makes a key for the tenant; the key itself is in the answer only, its sha256 in the database. */
export const createApiKey = (deps: Deps, tenantId: string, r: NewKeyRequest) =>
  deps.tiers.oltp.transaction(async (tx) => {
    const row = await issueApiKey(deps, tenantId, r, tx)
    await audit(tx, { tenantId, action: 'api_key.create', targetType: 'api_key', targetId: row.id, detail: { scopes: row.scopes } })
    return row
  })

/** The key itself, in the caller's transaction (a new tenant's first key commits with the tenant, under its record). */
export async function issueApiKey(deps: Deps, tenantId: string, r: NewKeyRequest, q: Queryable) {
  const expiresAt = r.expires_at ? new Date(r.expires_at) : null
  if (expiresAt && expiresAt.getTime() <= deps.clock.now()) throw invalid('expires_at is in the past', 'expires_at', 'must be in the future')
  const key = newApiKey()
  const row = await insertApiKey(q, {
    id: newId(),
    tenantId,
    keyHash: key.hash,
    prefix: key.prefix,
    name: r.name,
    scopes: [...new Set(r.scopes)],
    expiresAt,
  })
  return { ...row, key: key.key }
}

export const listKeys = (deps: Deps, tenantId: string, page: PageRequest) =>
  paged(page, (keyset) => listApiKeys(deps.tiers.oltp, tenantId, keyset))

/** Revoked at once: the next request with the key is refused, in every API process. */
export async function revokeKey(deps: Deps, tenantId: string, id: string) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await revokeApiKey(tx, tenantId, id, new Date(deps.clock.now()))
    if (!row) throw notFound('API key', 'id')
    await audit(tx, { tenantId, action: 'api_key.revoke', targetType: 'api_key', targetId: id })
    return row
  })
}

/**
 * The key's principal, unless it is unknown, revoked or expired. A key of a tenant that is not
 * active (suspended, or being deleted) is refused as forbidden: the key is good, its tenant may
 * not use it. Read on every request, so a suspension holds from the next one.
 */
export async function authenticate(deps: Deps, apiKey: string): Promise<KeyPrincipal | undefined> {
  const p = await findKeyByHash(deps.tiers.oltp, sha256Hex(apiKey))
  if (!p || (p.expires_at && p.expires_at.getTime() <= deps.clock.now())) return undefined
  if (p.tenant_status !== 'active') {
    throw new AppError('forbidden', `this API key's tenant is ${p.tenant_status}`, [{ field: 'tenant', message: p.tenant_status }])
  }
  return p
}

/**
 * last_used_at without a write per request: uses are noted in memory and written in one
 * statement at most once per interval, on the request that finds the interval passed. A crash
 * loses at most one interval of "last used" times, never a key or a revocation.
 */
export class KeyUsage {
  #pending = new Map<string, Date>()
  #flushedAt = 0
  #flushing: Promise<void> | undefined

  constructor(
    private readonly deps: Deps,
    private readonly intervalMs = 30_000,
  ) {}

  /** Notes a use; returns the write when one is due (await it to keep no work in flight). */
  note(keyId: string): Promise<void> | undefined {
    const now = this.deps.clock.now()
    this.#pending.set(keyId, new Date(now))
    if (this.#flushing || now - this.#flushedAt < this.intervalMs) return undefined
    return this.flush()
  }

  flush(): Promise<void> {
    this.#flushing ??= (async () => {
      const batch = this.#pending
      this.#pending = new Map()
      this.#flushedAt = this.deps.clock.now()
      try {
        await recordKeyUse(this.deps.tiers.oltp, batch)
      } catch (err) {
        // Only a "last used" time is at stake: keep the uses for the next flush, never fail a request.
        for (const [id, at] of batch) if (!this.#pending.has(id)) this.#pending.set(id, at)
        this.deps.log.warn({ err }, 'recording API key use failed')
      } finally {
        this.#flushing = undefined
      }
    })()
    return this.#flushing
  }
}
