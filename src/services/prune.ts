/**
 * Bounded growth: what grows with traffic is deleted once past its retention (src/config.ts),
 * a bounded batch per table per job, each batch one short statement of its own, so a prune never
 * holds a lock for long nor grows into one giant transaction. A full batch says so, and the job
 * enqueues a follow-up for just those tables, each resuming where its batch stopped.
 *
 * What each retention keeps, and why, is in the README ("Bounded growth"); the argument that
 * pruning events keeps them counted exactly once is beside the apply step (src/services/analytics.ts).
 * The OLTP outbox is only reported: its rows are jobs that were never relayed.
 */
import type { Deps } from '../deps.ts'
import { FIRST_ID, FIRST_TIME, type PrunedBatch } from '../db/prune-batch.ts'
import type { JobPayload, PruneTarget } from '../jobs/specs.ts'
import { pruneEvents } from '../tiers/analytics/events.ts'
import { pruneTombstones } from '../tiers/content/tombstones.ts'
import { pruneAuditLog } from '../tiers/oltp/audit-log.ts'
import { pruneIdempotencyKeys } from '../tiers/oltp/idempotency-keys.ts'
import { staleOutbox } from '../tiers/oltp/outbox.ts'
import { pruneWebhookReceipts } from '../tiers/oltp/suppressions.ts'
import { pruneArchive } from '../tiers/queue/archives.ts'
import { pruneJobLogs } from '../tiers/queue/job-logs.ts'
import { QUEUES, type QueueName } from '../tiers/queue/queues.ts'
import { eventHorizon } from './analytics.ts'
import { IDEMPOTENCY_WINDOW_MS } from './idempotency.ts'

const DAY_MS = 86_400_000
/** Clocks of different processes may disagree: events are pruned this long after workers start refusing them. */
const CLOCK_SLACK_MS = 3_600_000
/** Stale outbox rows are counted up to this many: enough to alert on, cheap to count. */
const OUTBOX_COUNT_CAP = 10_000

type Prune = (deps: Deps, after: string | undefined, limit: number) => Promise<PrunedBatch>

const daysAgo = (deps: Deps, days: number) => new Date(deps.clock.now() - days * DAY_MS)

const archive =
  (queue: QueueName): Prune =>
  (deps, after, limit) =>
    pruneArchive(deps.tiers.queue, queue, daysAgo(deps, deps.config.QUEUE_ARCHIVE_RETENTION_DAYS), after ?? FIRST_TIME, limit)

/** Every target, its tier and cutoff. An archive per queue: a queue added to QUEUES is pruned too. */
const TARGETS = {
  job_logs: (deps, after, limit) => pruneJobLogs(deps.tiers.queue, daysAgo(deps, deps.config.JOB_LOG_RETENTION_DAYS), after ?? FIRST_ID, limit),
  ...(Object.fromEntries(Object.values(QUEUES).map((q) => [`archive.${q}`, archive(q)])) as Record<`archive.${QueueName}`, Prune>),
  events: (deps, after, limit) =>
    pruneEvents(deps.tiers.analytics, new Date(eventHorizon(deps).getTime() - CLOCK_SLACK_MS), after ?? FIRST_TIME, limit),
  tombstones: (deps, after, limit) =>
    pruneTombstones(deps.tiers.content, daysAgo(deps, deps.config.CONTENT_TOMBSTONE_RETENTION_DAYS), after ?? FIRST_TIME, limit),
  audit_log: (deps, after, limit) => pruneAuditLog(deps.tiers.oltp, daysAgo(deps, deps.config.AUDIT_LOG_RETENTION_DAYS), after ?? FIRST_ID, limit),
  webhook_receipts: (deps, after, limit) =>
    pruneWebhookReceipts(deps.tiers.oltp, daysAgo(deps, deps.config.WEBHOOK_RECEIPT_RETENTION_DAYS), after ?? FIRST_TIME, limit),
  idempotency_keys: (deps, after, limit) =>
    pruneIdempotencyKeys(deps.tiers.oltp, new Date(deps.clock.now() - IDEMPOTENCY_WINDOW_MS), after ?? FIRST_TIME, limit),
} satisfies Record<PruneTarget, Prune>

export interface PruneRun {
  /** Rows deleted per target this batch (only the targets this batch visited). */
  deleted: Partial<Record<PruneTarget, number>>
  /** The targets whose batch was full, and where each resumes; empty when the run is done. */
  resume: Partial<Record<PruneTarget, string>>
  /** OLTP outbox rows older than OUTBOX_STALE_AFTER_S (counted up to 10,000) and the oldest one; only on a run's first batch. */
  outbox?: { stale: number; oldest: Date | null }
}

/**
 * One batch of the prune: every target (or only those `resume` names, from their cursors), at
 * most `batch_size` rows each, one after another. A failure throws, so the queue retries the job
 * and the failure shows in job_logs; what earlier statements deleted stays deleted.
 */
export async function pruneBatch(deps: Deps, { batch_size, resume }: JobPayload<'maintenance.prune'>): Promise<PruneRun> {
  const targets = resume ? (Object.keys(resume) as PruneTarget[]) : (Object.keys(TARGETS) as PruneTarget[])
  const run: PruneRun = { deleted: {}, resume: {} }
  for (const target of targets) {
    const batch = await TARGETS[target](deps, resume?.[target], batch_size)
    run.deleted[target] = batch.deleted
    if (batch.more && batch.cursor !== null) run.resume[target] = batch.cursor
  }
  if (!resume) {
    run.outbox = await staleOutbox(deps.tiers.oltp, new Date(deps.clock.now() - deps.config.OUTBOX_STALE_AFTER_S * 1000), OUTBOX_COUNT_CAP)
  }
  return run
}
