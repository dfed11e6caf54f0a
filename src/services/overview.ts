/**
 * Everything the operator dashboard shows (GET /v1/admin/overview, polled by /dashboard), cheap
 * enough to poll every few seconds from several browsers: readiness and the queue, analytics,
 * heartbeat and backup figures come from the monitor's caches (what /ready and /metrics show),
 * failures and dead letters are the newest 20 by index, and storage, whose content report sums
 * every content row, is read at most once a minute. A part that cannot be read is named in
 * `unavailable` and the rest still answers: a tier being down is when the page is looked at.
 */
import { basename } from 'node:path'
import type { Deps } from '../deps.ts'
import { Cached } from '../cached.ts'
import { schemaBytes } from '../db/sizes.ts'
import { TIER_NAMES, type TierName } from '../db/tier-names.ts'
import { storageReport } from '../tiers/content/storage.ts'
import { newestDeadLetters } from '../tiers/queue/dead-letters.ts'
import { recentFailures } from '../tiers/queue/job-logs.ts'
import { backupSets } from './backup.ts'

/** Rows of each list: enough to see what is failing, bounded whatever the backlog. */
export const RECENT_LIMIT = 20
const BACKUP_SETS_SHOWN = 10
const STORAGE_TTL_MS = 60_000

/** The design's freshness target (p99 under 5 s) and the seed's promise (30 s). */
const FRESH_S = 5
const STALE_S = 30

export type FreshnessState = 'fresh' | 'lagging' | 'stale' | 'unknown'

export const freshnessState = (seconds: number | null): FreshnessState =>
  seconds === null ? 'unknown' : seconds <= FRESH_S ? 'fresh' : seconds <= STALE_S ? 'lagging' : 'stale'

/** The schemas each tier keeps its tables in; pgmq's queue tables belong to the queue tier. */
const TIER_SCHEMAS: Record<TierName, readonly string[]> = { oltp: ['oltp'], content: ['content'], analytics: ['analytics'], queue: ['queue', 'pgmq'] }

/** Each tier's bytes on disk (file sizes, no rows read) and the content tier across all tenants. */
async function storageFigures(deps: Deps) {
  const [content, ...bytes] = await Promise.all([
    storageReport(deps.tiers.content, null),
    ...TIER_NAMES.map((t) => schemaBytes(deps.tiers[t], TIER_SCHEMAS[t])),
  ])
  return {
    read_at: new Date(deps.clock.now()).toISOString(),
    tier_bytes: Object.fromEntries(TIER_NAMES.map((t, i) => [t, bytes[i]!])) as Record<TierName, number>,
    content,
  }
}

async function backups(deps: Deps, newestAgeSeconds: number | null | undefined) {
  const dir = deps.config.BACKUP_DIR
  if (!dir) return { configured: false, newest_age_seconds: null, sets: [] }
  const sets = await backupSets(dir, BACKUP_SETS_SHOWN)
  return { configured: true, newest_age_seconds: newestAgeSeconds ?? null, sets: sets.map((s) => ({ name: basename(s.dir), finished_at: s.finished_at })) }
}

async function deadLetters(deps: Deps) {
  const rows = await newestDeadLetters(deps.tiers.queue, RECENT_LIMIT)
  // A dead letter is a JSON record the runtime wrote; one from an older version may lack a field.
  return rows.map((r) => ({
    msg_id: String(r.msg_id),
    queue: r.message?.queue ?? null,
    job: r.message?.job ?? null,
    error: r.message?.error ?? null,
    failed_at: r.message?.failed_at ?? null,
    enqueued_at: new Date(r.enqueued_at).toISOString(),
  }))
}

/** The overview of one app: its storage cache lives as long as the app does. */
export function createOverview(deps: Deps) {
  const storage = new Cached(() => storageFigures(deps), () => deps.clock.now())

  return async function overview() {
    const unavailable: string[] = []
    const part = async <T>(name: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read()
      } catch (err) {
        deps.log.warn({ err, part: name }, 'overview: a part could not be read')
        unavailable.push(name)
        return null
      }
    }
    const [ready, snapshot, stored, failures, dead] = await Promise.all([
      part('readiness', () => deps.monitor.readiness()),
      part('snapshot', () => deps.monitor.snapshot()),
      part('storage', () => storage.get(STORAGE_TTL_MS)),
      part('recent_failures', () => recentFailures(deps.tiers.queue, RECENT_LIMIT)),
      part('dead_letters', () => deadLetters(deps)),
    ])
    const backup = await part('backups', () => backups(deps, snapshot?.backup_age_seconds))
    const analytics = snapshot?.analytics
    return {
      generated_at: new Date(deps.clock.now()).toISOString(),
      poll_interval_seconds: deps.config.METRICS_REFRESH_S,
      ready: ready?.ready ?? false,
      tiers: ready?.tiers ?? null,
      workers: ready?.workers ?? null,
      queues: snapshot?.queues ?? null,
      analytics: analytics
        ? {
            as_of: analytics.as_of?.toISOString() ?? null,
            freshness_seconds: analytics.freshness_seconds,
            state: freshnessState(analytics.freshness_seconds),
            refresh_duration_ms: analytics.duration_ms,
          }
        : null,
      storage: stored,
      backups: backup,
      recent_failures: failures?.map((f) => ({ ...f, finished_at: new Date(f.finished_at).toISOString() })) ?? null,
      // The total is the snapshot's count (at most METRICS_REFRESH_S old); the list is read now.
      dead_letters: dead === null ? null : { total: snapshot ? snapshot.queues.reduce((n, q) => n + q.dead_letters, 0) : null, newest: dead },
      unavailable,
    }
  }
}

export type Overview = Awaited<ReturnType<ReturnType<typeof createOverview>>>
