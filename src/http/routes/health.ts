import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { readiness } from '../../services/operations.ts'
import { router } from '../env.ts'
import { json } from '../schemas.ts'

const TierStatus = z.object({ ok: z.boolean(), detail: z.string().optional() })
const Readiness = z.object({ ready: z.boolean(), tiers: z.record(z.string(), TierStatus) })

export function healthRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/health',
        tags: ['operations'],
        responses: { 200: json('The process is up', z.object({ status: z.literal('ok') })) },
      }),
      (c) => c.json({ status: 'ok' as const }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/ready',
        tags: ['operations'],
        responses: {
          200: json('Every tier reachable, migrations current', Readiness),
          503: json('A tier is unreachable or behind; tiers names it', Readiness),
        },
      }),
      async (c) => {
        const r = await readiness(deps)
        return c.json(r, r.ready ? 200 : 503)
      },
    )
}
