/**
 * The one registry of jobs: name → queue, payload schema, attempts. Producers enqueue through
 * src/jobs/enqueue.ts (which checks the payload here); workers/handlers/<job>.ts run them.
 */
import { z } from 'zod'
import { BOUNCE_REASONS } from '../inbound/reasons.ts'
import { analyticsEventSchema, BOUNCE_TYPES } from '../tiers/analytics/events.ts'
import { QUEUES } from '../tiers/queue/queues.ts'

/** What maintenance.prune deletes from (src/services/prune.ts): one entry per table, an archive per queue. */
export const PRUNE_TARGETS = [
  'job_logs',
  ...Object.values(QUEUES).map((q) => `archive.${q}` as const),
  'events',
  'tombstones',
  'audit_log',
  'webhook_receipts',
  'idempotency_keys',
] as const
export type PruneTarget = (typeof PRUNE_TARGETS)[number]

export interface JobSpec<S extends z.ZodType = z.ZodType> {
  queue: string
  schema: S
  /** Deliveries before the message moves to dead_letters. */
  maxAttempts: number
}

const spec = <S extends z.ZodType>(s: JobSpec<S>) => s

export const JOB_SPECS = {
  'message.created': spec({
    queue: QUEUES.events,
    maxAttempts: 10,
    schema: z.object({
      tenant_id: z.uuid(),
      message_id: z.uuid(),
      email_account_id: z.uuid(),
      campaign_id: z.uuid().nullable(),
      sequence_step_id: z.uuid().nullable(),
      lead_id: z.uuid().nullable(),
      direction: z.enum(['inbound', 'outbound']),
      message_type: z.string(),
      occurred_at: z.iso.datetime({ offset: true }),
      /** What an inbound reply, bounce, complaint or success report means for the outbound message it answers. */
      event: z
        .object({
          type: z.enum(['replied', 'auto_replied', 'bounced', 'complained', 'delivered']),
          message_id: z.uuid(),
          email_account_id: z.uuid(),
          campaign_id: z.uuid().nullable(),
          sequence_step_id: z.uuid().nullable(),
          bounce_type: z.enum(BOUNCE_TYPES).nullable(),
          // Optional, so payloads queued before they existed still parse; they go to the event's metadata.
          reason: z.enum(BOUNCE_REASONS).optional(),
          status: z.string().max(32).nullish(),
          recipient: z.string().max(254).nullish(),
          recipients: z.array(z.string().max(254)).max(50).optional(),
          feedback_type: z.string().max(40).optional(),
        })
        .nullish(),
    }),
  }),
  'events.apply': spec({
    queue: QUEUES.events,
    maxAttempts: 10,
    schema: z.object({
      events: z.array(analyticsEventSchema).min(1).max(1000),
      /** When the API accepted them: a bad event split off later keeps its place in its tenant's as_of. */
      accepted_at: z.iso.datetime({ offset: true }).optional(),
    }),
  }),
  'analytics.refresh': spec({ queue: QUEUES.jobs, maxAttempts: 10, schema: z.object({}) }),
  'content.collect_orphans': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({ batch_size: z.number().int().min(1).max(5_000).default(500) }),
  }),
  'content.expire': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({ batch_size: z.number().int().min(1).max(5_000).default(500) }),
  }),
  'content.archive': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({ batch_size: z.number().int().min(1).max(5_000).default(200) }),
  }),
  /**
   * Seals content written before encryption at rest, a batch per table (src/services/encrypt-existing.ts);
   * a follow-up job carries on from `resume` for the tables whose batch was full.
   */
  'content.encrypt_existing': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({
      batch_size: z.number().int().min(1).max(5_000).default(200),
      resume: z.object({ bodies: z.string().max(600).optional(), blobs: z.string().max(120).optional(), attachments: z.uuid().optional() }).optional(),
    }),
  }),
  /**
   * One batch of a legacy migration run with --via-queue (src/services/legacy/queue.ts): the run
   * and a key range, never the source's address or password (workers have LEGACY_SOURCE_URL).
   */
  'legacy.batch': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({ run: z.string().min(1).max(200), batch_no: z.number().int().min(1), after: z.string().max(100).nullable(), last: z.string().min(1).max(100) }),
  }),
  'content.recompute_expiry': spec({ queue: QUEUES.jobs, maxAttempts: 5, schema: z.object({ tenant_id: z.uuid() }) }),
  /** A few steps of an erasure request (src/services/erasure); only its id, so a tenant's deletion never finds its own job. */
  'erasure.run': spec({ queue: QUEUES.jobs, maxAttempts: 10, schema: z.object({ request_id: z.uuid() }) }),
  /** A backup set into BACKUP_DIR; one retry (a set is minutes of work on a big system, and the next slot comes anyway). */
  'maintenance.backup': spec({ queue: QUEUES.jobs, maxAttempts: 2, schema: z.object({}) }),
  'maintenance.prune': spec({
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({
      /** Rows per table per job, at most. */
      batch_size: z.number().int().min(1).max(50_000).default(5_000),
      /**
       * A follow-up job: only the tables whose last batch was full, each from where that batch
       * stopped (so a run does not re-read what it deleted). Absent: every table, from its start.
       */
      resume: z.partialRecord(z.enum(PRUNE_TARGETS), z.string().max(64)).optional(),
    }),
  }),
} as const

export type JobName = keyof typeof JOB_SPECS
export type JobPayload<J extends JobName> = z.infer<(typeof JOB_SPECS)[J]['schema']>
