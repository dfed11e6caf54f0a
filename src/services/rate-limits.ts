/**
 * Per-key token buckets, shared by every API process through the OLTP tier (oltp.rate_buckets).
 *
 * Why the database: server mode has no other shared component, the OLTP tier is already read on
 * every request to resolve the key, and a row lock makes the bucket exact across processes.
 * Why leases: a process takes a tenth of a second's worth of tokens at once and spends them
 * locally, so one OLTP write serves many requests. What a process holds unspent is the most
 * another process can be over-refused by (up to rate/10 per process).
 */
import type { Deps } from '../deps.ts'
import { leaseTokens } from '../tiers/oltp/api-keys.ts'

export interface Limits {
  /** Tokens per second. */
  rate: number
  /** Bucket size: requests allowed at once after idling. */
  burst: number
}

export type Decision =
  | { allowed: true; limit: number; remaining: number; resetSeconds: number }
  | { allowed: false; limit: number; remaining: 0; resetSeconds: number; retryAfterSeconds: number }

interface Local {
  tokens: number
  /** What the shared bucket held after our last lease. */
  shared: number
  /** After an empty lease: no token can exist before this, so refuse without asking the database. */
  emptyUntil: number
  leasing?: Promise<void>
}

export class RateLimiter {
  #keys = new Map<string, Local>()

  constructor(private readonly deps: Deps) {}

  /** The limits for a key of a tenant that may override the defaults. */
  limitsFor(p: { rate_limit_per_s: number | null; rate_limit_burst: number | null }): Limits {
    // Both are at least 1: the config schema and the tenant route validate them.
    return { rate: p.rate_limit_per_s ?? this.deps.config.RATE_LIMIT_PER_S, burst: p.rate_limit_burst ?? this.deps.config.RATE_LIMIT_BURST }
  }

  /** Spends one token of the key's bucket, leasing more from the shared bucket when none is left here. */
  async take(keyId: string, limits: Limits): Promise<Decision> {
    let local = this.#keys.get(keyId)
    if (!local) this.#keys.set(keyId, (local = { tokens: 0, shared: limits.burst, emptyUntil: 0 }))
    // Concurrent requests of one key in this process wait for one lease instead of each taking one.
    while (local.tokens < 1 && local.leasing) await local.leasing
    if (local.tokens < 1 && this.deps.clock.now() >= local.emptyUntil) {
      const lease = this.#lease(keyId, local, limits)
      local.leasing = lease
      try {
        await lease
      } finally {
        local.leasing = undefined
      }
    }
    const resetSeconds = Math.ceil((limits.burst - local.shared) / limits.rate)
    if (local.tokens >= 1) {
      local.tokens -= 1
      return { allowed: true, limit: limits.burst, remaining: Math.floor(local.tokens + local.shared), resetSeconds }
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((local.emptyUntil - this.deps.clock.now()) / 1000))
    return { allowed: false, limit: limits.burst, remaining: 0, resetSeconds, retryAfterSeconds }
  }

  async #lease(keyId: string, local: Local, limits: Limits): Promise<void> {
    const want = Math.min(limits.burst, Math.max(1, Math.ceil(limits.rate / 10)))
    const { granted, left } = await leaseTokens(this.deps.tiers.oltp, {
      keyId,
      want,
      rate: limits.rate,
      burst: limits.burst,
      now: new Date(this.deps.clock.now()),
    })
    local.tokens += granted
    local.shared = left
    local.emptyUntil = granted > 0 ? 0 : this.deps.clock.now() + ((1 - left) / limits.rate) * 1000
  }
}
