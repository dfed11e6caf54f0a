/**
 * The access log: exactly one line per request, written once its answer is known, whoever gave
 * it (a route, a 4xx thrown by auth, onError's 500, the 404 for no route). It is `info`, except for
 * a request that failed unexpectedly (a 500 with a cause): that line is `error` and carries the
 * cause, so one line per request still holds and an alert on errors finds it.
 *
 * It names the matched route pattern, never the path: a path holds ids (one log key per message)
 * and can hold an address. The request's ids come from its scope (src/request-context.ts).
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { matchedRoutes } from 'hono/route'
import type { AppEnv } from './env.ts'

/** The pattern of the route that matched (`/v1/messages/:id`); null when only middleware did (a 404 for no route). */
export const routePattern = (c: Context) => matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? null

export const requestLog = (onDone?: (c: Context<AppEnv>, seconds: number) => void) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now()
    let escaped: unknown
    try {
      await next()
    } catch (err) {
      escaped = err // onError itself failed; the server answers 500
      throw err
    } finally {
      const seconds = (performance.now() - started) / 1000
      const status = escaped ? 500 : c.res.status
      const cause = escaped ?? (status === 500 ? c.error : undefined)
      const line = {
        method: c.req.method,
        route: routePattern(c),
        status,
        duration_ms: Math.round(seconds * 100_000) / 100,
        tenant_id: c.get('tenantId'),
        ...(cause ? { err: cause } : {}),
      }
      if (cause) c.get('log').error(line, 'request')
      else c.get('log').info(line, 'request')
      if (!escaped) onDone?.(c, seconds)
    }
  })
