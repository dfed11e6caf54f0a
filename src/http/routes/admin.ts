import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { runDoctor } from '../../services/doctor.ts'
import { queueStats, storageReport } from '../../services/operations.ts'
import { StorageReportSchema } from './storage.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, json } from '../schemas.ts'

const DoctorReport = z
  .object({
    ok: z.boolean(),
    checks: z.array(
      z.object({
        name: z.string(),
        checked: z.number().int().openapi({ description: 'What was looked at: refs, old contents, attachments, sampled keys, queued messages' }),
        violations: z.number().int(),
        examples: z.array(z.string()).openapi({ description: 'Up to five offending keys' }),
      }),
    ),
  })
  .openapi('DoctorReport')

export const QueueStats = z
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
  ).openapi(
    createRoute({
      method: 'get',
      path: '/doctor',
      tags: ['operations'],
      operationId: 'runDoctor',
      summary: 'Check the invariants across the four tiers',
      description:
        'Operator route (admin token). What `npm run doctor` prints, for embedded mode, where only the running process may open ' +
        'the data: every ref has its content, no old content lacks its ref, attachments find their blobs, analytics rollups equal ' +
        'a recount of the events (a sample, or every key with ?full=true) and the views equal the rollups, no queue message is ' +
        'older than ?queue_max_age_s= (3600). Reads every ref: seconds at a million messages.',
      security: adminToken,
      request: {
        query: z.object({
          full: z.enum(['true', 'false']).optional(),
          sample: z.coerce.number().int().min(1).max(100_000).optional(),
          queue_max_age_s: z.coerce.number().int().min(1).max(30 * 86_400).optional(),
        }),
      },
      responses: { 200: json('The report; ok is false when any check found a violation', DoctorReport, ex.doctorReport), ...adminErrors(422) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      return c.json(await runDoctor(deps, { full: q.full === 'true', sample: q.sample, queueMaxAgeS: q.queue_max_age_s }), 200)
    },
  )
}
