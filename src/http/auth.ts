import { createMiddleware } from 'hono/factory'
import { timingSafeEqual } from 'node:crypto'
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { sha256Hex } from '../ids.ts'
import type { Scope } from '../scopes.ts'
import { authenticate, KeyUsage } from '../services/api-keys.ts'
import { RateLimiter } from '../services/rate-limits.ts'
import type { AppEnv } from './env.ts'

function bearer(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!m) throw new AppError('unauthorized', 'send Authorization: Bearer <api key>')
  return m[1]!
}

/**
 * Resolves the API key to its tenant (every /v1 query is then scoped to it), spends one token of
 * the key's rate limit, and notes the key's use. RateLimit-* headers go on every answer.
 */
export function tenantAuth(deps: Deps) {
  const limiter = new RateLimiter(deps)
  const usage = new KeyUsage(deps)
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = await authenticate(deps, bearer(c.req.header('authorization')))
    if (!key) throw new AppError('unauthorized', 'unknown, revoked or expired API key')
    const limits = limiter.limitsFor(key)
    const d = await limiter.take(key.key_id, limits)
    c.header('RateLimit-Limit', String(d.limit))
    c.header('RateLimit-Remaining', String(d.remaining))
    c.header('RateLimit-Reset', String(d.resetSeconds))
    c.header('RateLimit-Policy', `${limits.burst};w=${Math.max(1, Math.round(limits.burst / limits.rate))}`)
    if (!d.allowed) {
      c.header('Retry-After', String(d.retryAfterSeconds))
      throw new AppError('rate_limited', `this API key is over its limit of ${limits.rate} requests/s; retry after ${d.retryAfterSeconds} s`)
    }
    c.set('tenantId', key.tenant_id)
    c.set('apiKey', { id: key.key_id, scopes: key.scopes })
    await usage.note(key.key_id)
    await next()
  })
}

/** Reads need the `read` scope, everything else the `write` one; 403 names the scope missing. */
export const requireScope = (scopes: { read: Scope; write: Scope }) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const needed = c.req.method === 'GET' || c.req.method === 'HEAD' ? scopes.read : scopes.write
    if (!c.get('apiKey').scopes.includes(needed)) {
      throw new AppError('forbidden', `this API key lacks the ${needed} scope`, [{ field: 'scope', message: `needs ${needed}` }], { scope: needed })
    }
    await next()
  })

/** The operator tokens: ADMIN_TOKEN (or the generated one) plus ADMIN_TOKENS, for rotation. */
const adminTokenHashes = (deps: Deps) =>
  [...new Set([deps.adminToken, ...deps.config.ADMIN_TOKENS].filter(Boolean))].map((t) => Buffer.from(sha256Hex(t)))

/** Operator routes: any configured admin token, each compared in constant time. */
export const adminAuth = (deps: Deps) => {
  const expected = adminTokenHashes(deps)
  return createMiddleware<AppEnv>(async (c, next) => {
    const given = Buffer.from(sha256Hex(bearer(c.req.header('authorization'))))
    // Compare against every token, so the time does not tell which one (if any) nearly matched.
    let ok = false
    for (const e of expected) ok = timingSafeEqual(given, e) || ok
    if (!ok) throw new AppError('unauthorized', 'this route needs an admin token')
    await next()
  })
}
