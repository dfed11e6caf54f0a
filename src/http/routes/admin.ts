import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { queueStats, storageReport } from '../../services/operations.ts'
import { StorageReportSchema } from './storage.ts'
import { router } from '../env.ts'
import { commonErrors, json, security } from '../schemas.ts'

const QueueStats = z
  .object({
    queue: z.string(),
    depth: z.number().int(),
    oldest_age_seconds: z.number().nullable(),
    total_messages: z.number().int(),
    processed_per_second: z.number(),
    failed_per_second: z.number(),
    dead_letters: z.number().int(),
  })
  .openapi('QueueStats')

/** Operator routes (admin token). */
export function adminRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'get',
      path: '/queues',
      tags: ['operations'],
      summary: 'Depth, oldest age, processing rate and dead letters per work queue',
      security,
      responses: { 200: json('Per-queue figures', z.object({ data: z.array(QueueStats) })), 401: commonErrors[401] },
    }),
    async (c) => c.json({ data: await queueStats(deps) }, 200),
  ).openapi(
    createRoute({
      method: 'get',
      path: '/storage',
      tags: ['operations'],
      summary: 'The content tier across all tenants',
      security,
      responses: { 200: json('The report', StorageReportSchema), 401: commonErrors[401] },
    }),
    async (c) => c.json(await storageReport(deps, null), 200),
  )
}
