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
import type { TierName } from '../db/tier-names.ts'
import type { Db, Queryable } from '../db/types.ts'
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

/**
 * A table the prune keeps bounded: the moment before which its rows go, the bounded delete, and
 * where its oldest row's time is read (by the index the delete uses), for the overdue figure.
 */
interface Target {
  tier: TierName
  cutoff: (deps: Deps) => Date
  /** The tier's database: a target may need its own transaction (the audit log's prune declares itself maintenance). */
  prune: (db: Db, cutoff: Date, after: string | undefined, limit: number) => Promise<PrunedBatch>
  /** SQL: one row, one column `at`, the time of the table's oldest row (null when empty). */
  oldest: string
}

const daysAgo = (deps: Deps, days: number) => new Date(deps.clock.now() - days * DAY_MS)

const archive = (queue: QueueName): Target => ({
  tier: 'queue',
  cutoff: (deps) => daysAgo(deps, deps.config.QUEUE_ARCHIVE_RETENTION_DAYS),
  prune: (q, cutoff, after, limit) => pruneArchive(q, queue, cutoff, after ?? FIRST_TIME, limit),
  oldest: `SELECT min(archived_at) AS at FROM pgmq.a_${queue}`,
})

/** Every target, its tier and cutoff. An archive per queue: a queue added to QUEUES is pruned too. */
const TARGETS = {
  job_logs: {
    tier: 'queue',
    cutoff: (deps) => daysAgo(deps, deps.config.JOB_LOG_RETENTION_DAYS),
    prune: (q, cutoff, after, limit) => pruneJobLogs(q, cutoff, after ?? FIRST_ID, limit),
    oldest: `SELECT finished_at AS at FROM queue.job_logs ORDER BY id LIMIT 1`,
  },
  ...(Object.fromEntries(Object.values(QUEUES).map((q) => [`archive.${q}`, archive(q)])) as Record<`archive.${QueueName}`, Target>),
  events: {
    tier: 'analytics',
    cutoff: (deps) => new Date(eventHorizon(deps).getTime() - CLOCK_SLACK_MS),
    prune: (q, cutoff, after, limit) => pruneEvents(q, cutoff, after ?? FIRST_TIME, limit),
    oldest: `SELECT min(occurred_at) AS at FROM analytics.events`,
  },
  tombstones: {
    tier: 'content',
    cutoff: (deps) => daysAgo(deps, deps.config.CONTENT_TOMBSTONE_RETENTION_DAYS),
    prune: (q, cutoff, after, limit) => pruneTombstones(q, cutoff, after ?? FIRST_TIME, limit),
    oldest: `SELECT min(expires) AS at FROM content.content_objects WHERE content_state = 'expired'`,
  },
  audit_log: {
    tier: 'oltp',
    cutoff: (deps) => daysAgo(deps, deps.config.AUDIT_LOG_RETENTION_DAYS),
    prune: (q, cutoff, after, limit) => pruneAuditLog(q, cutoff, after ?? FIRST_ID, limit),
    oldest: `SELECT created AS at FROM oltp.audit_log ORDER BY id LIMIT 1`,
  },
  webhook_receipts: {
    tier: 'oltp',
    cutoff: (deps) => daysAgo(deps, deps.config.WEBHOOK_RECEIPT_RETENTION_DAYS),
    prune: (q, cutoff, after, limit) => pruneWebhookReceipts(q, cutoff, after ?? FIRST_TIME, limit),
    oldest: `SELECT min(created) AS at FROM oltp.webhook_receipts`,
  },
  idempotency_keys: {
    tier: 'oltp',
    cutoff: (deps) => new Date(deps.clock.now() - IDEMPOTENCY_WINDOW_MS),
    prune: (q, cutoff, after, limit) => pruneIdempotencyKeys(q, cutoff, after ?? FIRST_TIME, limit),
    oldest: `SELECT min(created) AS at FROM oltp.idempotency_keys`,
  },
} satisfies Record<PruneTarget, Target>

/**
 * How far behind each table's prune is: seconds between its cutoff and its oldest row, 0 when
 * nothing past retention is left. One index read per table: cheap enough for /metrics.
 */
export async function pruneOverdue(deps: Deps): Promise<Record<PruneTarget, number>> {
  const entries = await Promise.all(
    (Object.entries(TARGETS) as [PruneTarget, Target][]).map(async ([name, t]) => {
      const [row] = await deps.tiers[t.tier].query<{ at: Date | null }>(t.oldest)
      const oldest = row?.at ? new Date(row.at).getTime() : null
      return [name, oldest === null ? 0 : Math.max(0, (t.cutoff(deps).getTime() - oldest) / 1000)] as const
    }),
  )
  return Object.fromEntries(entries) as Record<PruneTarget, number>
}

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
    const t: Target = TARGETS[target]
    const batch = await t.prune(deps.tiers[t.tier], t.cutoff(deps), resume?.[target], batch_size)
    run.deleted[target] = batch.deleted
    if (batch.more && batch.cursor !== null) run.resume[target] = batch.cursor
  }
  if (!resume) {
    run.outbox = await staleOutbox(deps.tiers.oltp, new Date(deps.clock.now() - deps.config.OUTBOX_STALE_AFTER_S * 1000), OUTBOX_COUNT_CAP)
  }
  return run
}
