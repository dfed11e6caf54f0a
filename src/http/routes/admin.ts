import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { queueStats, storageReport } from '../../services/operations.ts'
import { StorageReportSchema } from './storage.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, json } from '../schemas.ts'

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
      operationId: 'listQueueStats',
      summary: 'Depth, oldest age, processing rate and dead letters per work queue',
      description: 'Operator route (admin token). The same figures /metrics exports, as JSON.',
      security: adminToken,
      responses: { 200: json('Per-queue figures', z.object({ data: z.array(QueueStats) }), { data: ex.queueStats }), ...adminErrors() },
    }),
    async (c) => c.json({ data: await queueStats(deps) }, 200),
  ).openapi(
    createRoute({
      method: 'get',
      path: '/storage',
      tags: ['operations'],
      operationId: 'getAdminStorageReport',
      summary: 'The content tier across all tenants',
      description: 'Operator route (admin token). GET /v1/storage, summed over every tenant.',
      security: adminToken,
      responses: { 200: json('The report', StorageReportSchema, ex.storage), ...adminErrors() },
    }),
    async (c) => c.json(await storageReport(deps, null), 200),
  )
}
