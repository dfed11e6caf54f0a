import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { TIER_NAMES, type TierName } from '../../db/tier-names.ts'
import { pendingMigrations } from '../../db/migrate.ts'
import { router } from '../env.ts'
import { json } from '../schemas.ts'

const TierStatus = z.object({ ok: z.boolean(), detail: z.string().optional() })
const Readiness = z.object({ ready: z.boolean(), tiers: z.record(z.string(), TierStatus) })

async function checkTier(deps: Deps, tier: TierName): Promise<z.infer<typeof TierStatus>> {
  try {
    const pending = await pendingMigrations(deps.tiers[tier], tier)
    return pending.length ? { ok: false, detail: `pending migrations: ${pending.join(', ')}` } : { ok: true }
  } catch (err) {
    deps.log.warn({ err, tier }, 'readiness check failed')
    return { ok: false, detail: 'unreachable' }
  }
}

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
        const results = await Promise.all(TIER_NAMES.map((t) => checkTier(deps, t)))
        const tiers = Object.fromEntries(TIER_NAMES.map((t, i) => [t, results[i]!]))
        const ready = results.every((r) => r.ok)
        return c.json({ ready, tiers }, ready ? 200 : 503)
      },
    )
}
