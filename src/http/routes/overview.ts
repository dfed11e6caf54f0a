/** GET /v1/admin/overview: what the operator dashboard (/dashboard) polls, in one answer. */
import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createOverview, RECENT_LIMIT } from '../../services/overview.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, json, NullableTimestamp, Timestamp } from '../schemas.ts'
import { QueueStats } from './admin.ts'
import { StorageReportSchema } from './storage.ts'

const Tier = z.object({ ok: z.boolean(), detail: z.string().optional() })
const tierBytes = z.object({ oltp: z.number().int(), content: z.number().int(), analytics: z.number().int(), queue: z.number().int() })

const OverviewSchema = z
  .object({
    generated_at: Timestamp,
    poll_interval_seconds: z.number().int().openapi({ description: 'METRICS_REFRESH_S: the queue and analytics figures change no faster' }),
    ready: z.boolean().openapi({ description: 'What /ready answers' }),
    tiers: z.record(z.string(), Tier).nullable(),
    workers: Tier.extend({ heartbeat_age_seconds: z.number().nullable(), oldest_message_age_seconds: z.number().nullable() }).nullable(),
    queues: z.array(QueueStats).nullable(),
    analytics: z
      .object({
        as_of: NullableTimestamp,
        freshness_seconds: z.number().nullable(),
        state: z.enum(['fresh', 'lagging', 'stale', 'unknown']).openapi({ description: 'fresh ≤ 5 s, lagging ≤ 30 s, stale beyond; unknown before the first refresh' }),
        refresh_duration_ms: z.number().nullable(),
      })
      .nullable(),
    storage: z
      .object({
        read_at: Timestamp.openapi({ description: 'Storage is read at most once a minute' }),
        tier_bytes: tierBytes.openapi({ description: 'Bytes on disk of each tier’s tables, indexes and TOAST' }),
        content: StorageReportSchema,
      })
      .nullable(),
    backups: z
      .object({
        configured: z.boolean().openapi({ description: 'Whether BACKUP_DIR is set' }),
        newest_age_seconds: z.number().nullable(),
        sets: z.array(z.object({ name: z.string(), finished_at: z.string().nullable().openapi({ description: 'null: incomplete, or still being written' }) })),
      })
      .nullable(),
    recent_failures: z
      .array(
        z.object({
          id: z.string(),
          queue: z.string(),
          msg_id: z.string(),
          job: z.string(),
          attempt: z.number().int(),
          outcome: z.enum(['retrying', 'dead']),
          error: z.string().nullable(),
          finished_at: Timestamp,
        }),
      )
      .nullable(),
    dead_letters: z
      .object({
        total: z.number().int().nullable().openapi({ description: 'Across every queue, as of the last snapshot' }),
        newest: z.array(
          z.object({
            msg_id: z.string(),
            queue: z.string().nullable(),
            job: z.string().nullable(),
            error: z.string().nullable(),
            failed_at: z.string().nullable(),
            enqueued_at: Timestamp,
          }),
        ),
      })
      .nullable(),
    unavailable: z.array(z.string()).openapi({ description: 'Parts that could not be read this time (their fields are null); the cause is logged' }),
  })
  .openapi('OperatorOverview')

export function overviewRoutes(deps: Deps) {
  const overview = createOverview(deps)
  return router().openapi(
    createRoute({
      method: 'get',
      path: '/overview',
      tags: ['operations'],
      operationId: 'getOperatorOverview',
      summary: 'Everything the operator dashboard shows, in one answer',
      description:
        'Operator route (admin token), polled by /dashboard. Tier readiness and worker heartbeat (as /ready), queue depth, ' +
        'oldest age, rates and dead letters, analytics freshness and backup age (the /metrics snapshot, read every ' +
        `METRICS_REFRESH_S), storage per tier and the content report (read at most once a minute), and the newest ${RECENT_LIMIT} ` +
        'failed job attempts and dead letters. Cheap to poll: no part counts a whole table per request. A part that cannot ' +
        'be read is null and named in `unavailable`; the rest still answers.',
      security: adminToken,
      responses: { 200: json('The overview', OverviewSchema, ex.operatorOverview), ...adminErrors() },
    }),
    async (c) => c.json(await overview(), 200),
  )
}
