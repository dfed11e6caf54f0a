import { createMiddleware } from 'hono/factory'
import { timingSafeEqual } from 'node:crypto'
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { sha256Hex } from '../ids.ts'
import { tenantForApiKey } from '../services/tenants.ts'
import type { AppEnv } from './env.ts'

function bearer(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!m) throw new AppError('unauthorized', 'send Authorization: Bearer <api key>')
  return m[1]!
}

/** Resolves the API key to its tenant; every /v1 query is then scoped to that tenant. */
export const tenantAuth = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const tenantId = await tenantForApiKey(deps, bearer(c.req.header('authorization')))
    if (!tenantId) throw new AppError('unauthorized', 'unknown or revoked API key')
    c.set('tenantId', tenantId)
    await next()
  })

/** Operator routes: the ADMIN_TOKEN, compared in constant time. */
export const adminAuth = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const given = Buffer.from(sha256Hex(bearer(c.req.header('authorization'))))
    const expected = Buffer.from(sha256Hex(deps.adminToken))
    if (!timingSafeEqual(given, expected)) throw new AppError('unauthorized', 'this route needs the admin token')
    await next()
  })
