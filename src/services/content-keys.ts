/**
 * The keyring every content read and write goes through: a tenant's data key is made on its
 * first write (32 random bytes, wrapped by the master key, stored in content.tenant_keys) and
 * unwrapped at most once a minute per process into a non-extractable CryptoKey. A key that cannot
 * be had (master key missing or wrong, key destroyed) fails the read with 503 "content key
 * unavailable" and one log line that names the problem, never the secret; a ciphertext that fails
 * authentication is a 500 that says so. Nothing is ever decrypted into garbage.
 */
import type { Logger } from 'pino'
import { resolveMasterKeys, unwrapDataKey, wrapDataKey, type MasterKeys } from '../content-master-key.ts'
import type { Queryable } from '../db/types.ts'
import { AppError } from '../errors.ts'
import { newId } from '../ids.ts'
import type { Config } from '../config.ts'
import { getTenantKey, insertTenantKey, type TenantKeyRow } from '../tiers/content/keys.ts'
import { SealBroken, type DataKey } from '../tiers/content/sealing.ts'

/** How long an unwrapped key is used before its row is read again (a destroyed key stops working everywhere within this). */
export const KEY_CACHE_MS = 60_000

export class KeyUnavailable extends AppError {
  constructor(readonly problem: string) {
    super('service_unavailable', 'content key unavailable')
  }
}

/** A sealed row that failed authentication: altered, or moved from another row or tenant. */
export const sealBroken = () => new AppError('internal', 'stored content failed its integrity check')

export interface ContentKeysOptions {
  /** false: write new content in the clear (the benchmark's baseline); reads handle both either way. */
  sealing?: boolean
  now?: () => number
}

export class ContentKeys {
  readonly sealing: boolean
  private master: Promise<MasterKeys> | undefined
  private cache = new Map<string, { key: Promise<DataKey>; until: number }>()
  private readonly now: () => number

  constructor(
    private readonly db: Queryable,
    private readonly log: Logger,
    private readonly loadMaster: () => Promise<MasterKeys>,
    { sealing = true, now = Date.now }: ContentKeysOptions = {},
  ) {
    this.sealing = sealing
    this.now = now
  }

  static fromConfig(db: Queryable, log: Logger, config: Config, opts?: ContentKeysOptions) {
    return new ContentKeys(db, log, () => resolveMasterKeys(config), opts)
  }

  /** The master keys, loaded once; a failure (no key in server mode) is retried on the next use. */
  masterKeys(): Promise<MasterKeys> {
    this.master ??= this.loadMaster().catch((err) => {
      this.master = undefined
      throw err
    })
    return this.master
  }

  /** The tenant's key for a write: made on the tenant's first write. */
  forWrite(tenantId: string): Promise<DataKey> {
    return this.cached(tenantId, null)
  }

  /** The key a sealed row names. */
  forRead(tenantId: string, keyId: string): Promise<DataKey> {
    return this.cached(tenantId, keyId)
  }

  /** Drops a tenant's key from this process's cache (its key was just destroyed). */
  forget(tenantId: string) {
    this.cache.delete(tenantId)
  }

  /** Logs and maps what opening a sealed row threw: the caller answers 503 or 500, never content. */
  failure(err: unknown, where: { tenant_id: string; storage_key?: string }): never {
    if (err instanceof SealBroken) {
      this.log.error({ ...where, problem: err.message }, 'content failed authentication: altered, or moved from another row or tenant')
      throw sealBroken()
    }
    throw err
  }

  /**
   * A key from the cache; past KEY_CACHE_MS the cached key is still used while a refresh reads its
   * row again in the background, so a write inside a transaction never waits for a query of its own
   * (PGlite has one connection). A refresh that finds the key gone drops it.
   */
  private cached(tenantId: string, keyId: string | null): Promise<DataKey> {
    const hit = this.cache.get(tenantId)
    if (!hit) return this.refresh(tenantId, keyId)
    if (hit.until <= this.now()) {
      hit.until = this.now() + KEY_CACHE_MS
      this.refresh(tenantId, keyId).catch(() => undefined)
    }
    return hit.key.then((k) => (keyId === null || k.keyId === keyId ? k : this.unavailable(tenantId, `row names key ${keyId}, the tenant's key is ${k.keyId}`)))
  }

  private refresh(tenantId: string, keyId: string | null): Promise<DataKey> {
    const key = this.load(tenantId, keyId)
    const entry = { key, until: this.now() + KEY_CACHE_MS }
    key.then(
      () => this.cache.set(tenantId, entry),
      () => this.cache.delete(tenantId),
    )
    if (!this.cache.has(tenantId)) this.cache.set(tenantId, entry)
    return key
  }

  private async load(tenantId: string, keyId: string | null): Promise<DataKey> {
    let master: MasterKeys
    try {
      master = await this.masterKeys()
    } catch (err) {
      return this.unavailable(tenantId, `no usable master key: ${(err as Error).message.replace(/\s+/g, ' ')}`)
    }
    let row = await getTenantKey(this.db, tenantId)
    if (!row && keyId === null) row = await this.create(master, tenantId)
    if (!row) return this.unavailable(tenantId, 'the tenant has no data key (deleted)')
    if (keyId !== null && row.key_id !== keyId) return this.unavailable(tenantId, `row names key ${keyId}, the tenant's key is ${row.key_id}`)
    return this.unwrap(master, row)
  }

  private async create(master: MasterKeys, tenantId: string): Promise<TenantKeyRow> {
    const raw = crypto.getRandomValues(new Uint8Array(32))
    const keyId = newId()
    const wrapped = await wrapDataKey(master.current, tenantId, keyId, raw)
    raw.fill(0)
    return insertTenantKey(this.db, { tenantId, keyId, wrapped, fingerprint: master.current.fingerprint })
  }

  private async unwrap(master: MasterKeys, row: TenantKeyRow): Promise<DataKey> {
    if (!row.wrapped_key) return this.unavailable(row.tenant_id, `data key ${row.key_id} was destroyed (tenant deleted) at ${row.destroyed_at?.toISOString()}`)
    const candidates = [master.current, master.previous].filter((m) => m?.fingerprint === row.master_fingerprint)
    const m = candidates[0]
    if (!m) {
      const have = [master.current, master.previous].filter((k) => k !== null).map((k) => k!.fingerprint)
      return this.unavailable(
        row.tenant_id,
        `wrong master key: data key ${row.key_id} is wrapped by master ${row.master_fingerprint}, this process has ${have.join(' and ')} (CONTENT_MASTER_KEY${master.previous ? ', CONTENT_MASTER_KEY_PREVIOUS' : ''})`,
      )
    }
    const raw = await unwrapDataKey(m, row.tenant_id, row.key_id, row.wrapped_key)
    if (!raw) return this.unavailable(row.tenant_id, `master ${m.fingerprint} does not open data key ${row.key_id}: the wrapped key was altered`)
    const key = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt'])
    raw.fill(0)
    return { tenantId: row.tenant_id, keyId: row.key_id, key }
  }

  private unavailable(tenantId: string, problem: string): never {
    this.log.error({ tenant_id: tenantId, problem }, `content key unavailable: ${problem}`)
    throw new KeyUnavailable(problem)
  }
}
