/**
 * What operators watch: readiness of every tier, the work queues, analytics freshness and the
 * content tier's size. /ready, /metrics and the admin routes read through here, so every process
 * reports the same figures whatever it runs.
 */
import { workersInProcess } from '../config.ts'
import type { Deps } from '../deps.ts'
import { ADMIN_ACTOR, bracketed } from './audit.ts'
import { newestBackupAge } from './backup.ts'
import { pruneOverdue } from './prune.ts'
import { databasesOf, readerOf } from '../db/tiers.ts'
import { pendingMigrations } from '../db/migrate.ts'
import { TIER_NAMES, type TierName } from '../db/tier-names.ts'
import { contentBytes, storageReport as contentReport, type StorageReport } from '../tiers/content/storage.ts'
import {
  countDeadLetters,
  getDeadLetter as deadLetterRow,
  listDeadLetters as deadLetterRows,
  requeueDeadLetters as requeue,
} from '../tiers/queue/dead-letters.ts'
import { outcomeCountsSince } from '../tiers/queue/job-logs.ts'
import { metrics } from '../tiers/queue/pgmq.ts'
import { WORK_QUEUES } from '../tiers/queue/queues.ts'
import { lastHeartbeat } from '../tiers/queue/schedules.ts'
import { refreshStatus } from './analytics.ts'

export interface TierStatus {
  ok: boolean
  detail?: string
}

async function tierStatus(deps: Deps, tier: TierName): Promise<TierStatus> {
  try {
    const pending = await pendingMigrations(deps.tiers[tier], tier)
    return pending.length ? { ok: false, detail: `pending migrations: ${pending.join(', ')}` } : { ok: true }
  } catch (err) {
    deps.log.warn({ err, tier }, 'readiness check failed')
    return { ok: false, detail: 'unreachable' }
  }
}

export interface WorkerStatus extends TierStatus {
  /** Seconds since any worker process last recorded a heartbeat; null when none ever did. */
  heartbeat_age_seconds: number | null
  /** Age of the oldest message in any work queue; null when they are empty. */
  oldest_message_age_seconds: number | null
}

/**
 * Workers are gone when none beat within WORKER_HEARTBEAT_TIMEOUT_S while the queues hold a
 * message older than that: work is waiting and nobody takes it. An idle system with no worker
 * yet (empty queues) is fine.
 */
async function workerStatus(deps: Deps): Promise<WorkerStatus> {
  const q = deps.tiers.queue
  try {
    const [beat, ...perQueue] = await Promise.all([lastHeartbeat(q), ...WORK_QUEUES.map((name) => metrics(q, name))])
    const ages = perQueue.map((m) => m.oldest_msg_age_sec).filter((a): a is number => a !== null)
    const status = { heartbeat_age_seconds: beat?.age_seconds ?? null, oldest_message_age_seconds: ages.length ? Math.max(...ages) : null }
    const limit = deps.config.WORKER_HEARTBEAT_TIMEOUT_S
    const silent = status.heartbeat_age_seconds === null || status.heartbeat_age_seconds > limit
    if (!silent || (status.oldest_message_age_seconds ?? 0) <= limit) return { ok: true, ...status }
    const since = status.heartbeat_age_seconds === null ? 'ever' : `for ${Math.round(status.heartbeat_age_seconds)} s`
    return { ok: false, detail: `no worker heartbeat ${since}; the oldest queued message is ${status.oldest_message_age_seconds} s old`, ...status }
  } catch (err) {
    deps.log.warn({ err }, 'worker liveness check failed')
    return { ok: false, detail: 'unknown: the queue tier is unreachable', heartbeat_age_seconds: null, oldest_message_age_seconds: null }
  }
}

/**
 * Every tier reachable with its migrations current (a tier that is not says why, without driver
 * text), and the workers' liveness. Gone workers make the process not ready only when it runs
 * them itself (embedded mode): taking every API instance out of rotation because a separate worker
 * pool stopped would turn a processing delay into an outage of intake. Server mode reports them in
 * `workers` and in edp_worker_heartbeat_age_seconds, for alerting.
 */
export async function readiness(deps: Deps): Promise<{ ready: boolean; tiers: Record<TierName, TierStatus>; workers: WorkerStatus }> {
  const [workers, ...results] = await Promise.all([workerStatus(deps), ...TIER_NAMES.map((t) => tierStatus(deps, t))])
  const tiers = Object.fromEntries(TIER_NAMES.map((t, i) => [t, results[i]!])) as Record<TierName, TierStatus>
  const workersOk = workers.ok || !workersInProcess(deps.config)
  return { ready: results.every((r) => r.ok) && workersOk, tiers, workers }
}

export interface QueueStats {
  queue: string
  depth: number
  oldest_age_seconds: number | null
  total_messages: number
  /** Successful jobs per second over the last minute. */
  processed_per_second: number
  /** Failed attempts (retried or dead) per second over the last minute. */
  failed_per_second: number
  dead_letters: number
}

const WINDOW_SECONDS = 60

/** Health of the work queues. */
export async function queueStats(deps: Deps): Promise<QueueStats[]> {
  const q = deps.tiers.queue
  const since = new Date(deps.clock.now() - WINDOW_SECONDS * 1000)
  const [recent, dead, ...perQueue] = await Promise.all([outcomeCountsSince(q, since), countDeadLetters(q), ...WORK_QUEUES.map((name) => metrics(q, name))])
  return WORK_QUEUES.map((queue, i) => {
    const m = perQueue[i]!
    const count = (pred: (o: string) => boolean) => recent.filter((r) => r.queue === queue && pred(r.outcome)).reduce((s, r) => s + r.n, 0)
    return {
      queue,
      depth: Number(m.queue_length),
      oldest_age_seconds: m.oldest_msg_age_sec,
      total_messages: Number(m.total_messages),
      processed_per_second: count((o) => o === 'succeeded') / WINDOW_SECONDS,
      failed_per_second: count((o) => o !== 'succeeded') / WINDOW_SECONDS,
      dead_letters: dead.get(queue) ?? 0,
    }
  })
}

/** Everything /metrics exposes that lives in the tiers, read in one go (every METRICS_REFRESH_S, see monitor.ts). */
export async function monitoringSnapshot(deps: Deps) {
  const [queues, analytics, heartbeat, backupAge] = await Promise.all([
    queueStats(deps),
    refreshStatus(deps),
    lastHeartbeat(deps.tiers.queue),
    newestBackupAge(deps.config, deps.clock.now()),
  ])
  return { queues, analytics, heartbeat_age_seconds: heartbeat?.age_seconds ?? null, backup_age_seconds: backupAge }
}

export type MonitoringSnapshot = Awaited<ReturnType<typeof monitoringSnapshot>>
export type Readiness = Awaited<ReturnType<typeof readiness>>

/** The content tier for one tenant, or with null for all of them. */
export const storageReport = (deps: Deps, tenantId: string | null): Promise<StorageReport> => contentReport(readerOf(deps.tiers, 'content'), tenantId)

/** Dead letters, oldest first (optionally of one source queue), for operators to inspect. */
export const listDeadLetters = (deps: Deps, opts: { queue?: string; limit: number }) => deadLetterRows(deps.tiers.queue, opts)

export const getDeadLetter = (deps: Deps, msgId: string) => deadLetterRow(deps.tiers.queue, msgId)

/**
 * Puts dead letters back on their queues as fresh messages (attempts start again). An operator's
 * action on the queue tier: recorded around it, an intent first (src/services/audit.ts).
 */
export const requeueDeadLetters = (deps: Deps, msgIds: readonly string[]) =>
  bracketed(
    deps,
    { tenantId: null, actor: ADMIN_ACTOR, action: 'dead_letter.requeue', targetType: 'dead_letters', targetId: null, detail: { asked: msgIds.length, ids: msgIds.slice(0, 100) } },
    () => requeue(deps.tiers.queue, msgIds),
    undefined,
    (done) => ({ detail: { asked: msgIds.length, requeued: done.length, ids: msgIds.slice(0, 100) } }),
  )

/** The largest tables of each database shown on /metrics. */
const LARGEST_TABLES = 10

export interface DatabaseFigures {
  /** The tiers this database holds ("oltp+queue" when they share one). */
  tiers: string
  bytes: number
  tables: { table: string; bytes: number; dead_tuples: number }[]
}

/**
 * The full-table figures /metrics shows, read at most every METRICS_SLOW_REFRESH_S (monitor.ts):
 * each database's size and largest tables with their dead tuples, the content tier's bytes, and
 * how far behind each prune is.
 */
export async function capacitySnapshot(deps: Deps) {
  const databases: DatabaseFigures[] = await Promise.all(
    databasesOf(deps.tiers).map(async ({ db, tiers }) => {
      const [[size], tables] = await Promise.all([
        db.query<{ bytes: string }>(`SELECT pg_database_size(current_database())::text AS bytes`),
        db.query<{ table: string; bytes: string; dead_tuples: string }>(
          `SELECT schemaname || '.' || relname AS table, pg_total_relation_size(relid)::text AS bytes, n_dead_tup::text AS dead_tuples
             FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT ${LARGEST_TABLES}`,
        ),
      ])
      return {
        tiers: tiers.join('+'),
        bytes: Number(size?.bytes ?? 0),
        tables: tables.map((t) => ({ table: t.table, bytes: Number(t.bytes), dead_tuples: Number(t.dead_tuples) })),
      }
    }),
  )
  const [content, overdue] = await Promise.all([contentBytes(deps.tiers.content), pruneOverdue(deps)])
  return { databases, content, prune_overdue_seconds: overdue }
}
export type CapacitySnapshot = Awaited<ReturnType<typeof capacitySnapshot>>
