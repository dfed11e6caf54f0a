import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { json, problems } from '../schemas.ts'

const TierStatus = z.object({ ok: z.boolean(), detail: z.string().optional() })
const WorkerStatus = TierStatus.extend({
  heartbeat_age_seconds: z.number().nullable(),
  oldest_message_age_seconds: z.number().nullable(),
})
const Readiness = z.object({ ready: z.boolean(), tiers: z.record(z.string(), TierStatus), workers: WorkerStatus })

export function healthRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/health',
        tags: ['operations'],
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        description: 'Public. Touches no database; use /ready to know whether the process can serve.',
        security: [],
        responses: { 200: json('The process is up', z.object({ status: z.literal('ok') }), { status: 'ok' }), ...problems(500) },
      }),
      (c) => c.json({ status: 'ok' as const }, 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/ready',
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Readiness: every tier reachable and migrated, workers alive',
        description: 'Public. Checked at most once a second. A process that runs the workers itself answers 503 when they are gone; a server-mode API only reports them.',
        security: [],
        responses: {
          200: json('Every tier reachable, migrations current, workers alive or not needed', Readiness, ex.ready),
          503: json('A tier is unreachable or behind (tiers names it), or the in-process workers are gone (workers says so)', Readiness, ex.notReady),
          ...problems(500),
        },
      }),
      async (c) => {
        const r = await deps.monitor.readiness() // checked at most once a second
        return c.json(r, r.ready ? 200 : 503)
      },
    )
}
