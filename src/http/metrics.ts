/**
 * Prometheus metrics. Queue, analytics and worker figures come from the tiers, so every process
 * reports the same truth whatever it runs; they are the monitor's last read (services/monitor.ts),
 * so scrapes never query. The text itself is rendered at most once a second: rendering costs about
 * 4 ms of the one event loop (the process collectors mostly), and 32 connections scraping in a
 * loop left tenant requests 4 per second when every scrape rendered. Per tier: reachability, the
 * pool's calls in flight and waiting, call durations; database and table sizes, dead tuples,
 * content bytes and prune lag come from the monitor's slower capacity read.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { Cached } from '../cached.ts'
import { TIER_NAMES } from '../db/tier-names.ts'
import type { Deps } from '../deps.ts'
import { observeQueries } from '../services/monitor.ts'

const RENDER_TTL_MS = 1_000

export function createMetrics(deps: Deps) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'edp_' })
  const http = new Histogram({
    name: 'edp_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] })
  /**
   * A gauge that is absent while it has no value: prom-client shows an unlabelled gauge as 0 even
   * after reset(), and 0 would read as "just now" for an age. So it joins the registry only while set.
   */
  const optionalGauge = (name: string, help: string) => {
    const g = new Gauge({ name, help, registers: [] })
    return (value: number | null) => {
      const shown = registry.getSingleMetric(name) !== undefined
      if (value === null) {
        if (shown) registry.removeSingleMetric(name)
        return
      }
      g.set(value)
      if (!shown) registry.registerMetric(g)
    }
  }
  const depth = gauge('edp_queue_depth', 'Messages waiting in a queue (visible or not)', ['queue'])
  const oldest = gauge('edp_queue_oldest_age_seconds', 'Age of the oldest message in a queue', ['queue'])
  const processed = gauge('edp_queue_processed_per_second', 'Jobs succeeded per second over the last minute', ['queue'])
  const failed = gauge('edp_queue_failed_per_second', 'Attempts failed per second over the last minute', ['queue'])
  const dead = gauge('edp_queue_dead_letters', 'Dead letters from a queue', ['queue'])
  const freshness = gauge('edp_analytics_freshness_seconds', 'Age of the analytics views as_of (absent before the first refresh)')
  const refreshMs = gauge('edp_analytics_refresh_duration_ms', 'Duration of the last refresh of the three views')
  const heartbeat = optionalGauge('edp_worker_heartbeat_age_seconds', 'Seconds since any worker process last recorded a heartbeat (absent before the first)')

  // Per tier: its database's pool and calls (tiers sharing a database show the same figures).
  const tierUp = gauge('edp_tier_up', 'Whether a tier is reachable with its migrations applied (1) or not (0), as /ready says', ['tier'])
  const poolInUse = gauge('edp_db_connections_in_use', 'Calls holding a connection of the tier’s pool', ['tier'])
  const poolWaiting = gauge('edp_db_connections_waiting', 'Calls waiting for a connection of the tier’s pool', ['tier'])
  const poolMax = gauge('edp_db_connections_max', 'Connections the tier’s pool may open', ['tier'])
  // Per tier with a read replica (src/db/replicas.ts), as its last check found it.
  const replicaInUse = gauge('edp_replica_in_use', 'Whether listings and reports read the tier’s replica (1) or its primary (0)', ['tier'])
  const replicaLag = gauge('edp_replica_lag_seconds', 'How far the tier’s replica is behind its primary, at most (absent when it cannot be measured)', ['tier'])
  const queries = new Histogram({
    name: 'edp_db_query_duration_seconds',
    help: 'Calls to a database (a statement, or a whole transaction), by the tiers it holds',
    labelNames: ['db'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  })
  const dbOf = new Map<string, string>()
  for (const tier of TIER_NAMES) {
    const label = deps.tiers[tier].label
    dbOf.set(label, dbOf.has(label) ? `${dbOf.get(label)}+${tier}` : tier)
  }
  observeQueries((label, seconds) => {
    const db = dbOf.get(label)
    if (db) queries.observe({ db }, seconds)
  })
  // Full-table figures, read every METRICS_SLOW_REFRESH_S.
  const dbBytes = gauge('edp_db_size_bytes', 'Size of a database, by the tiers it holds', ['db'])
  const tableBytes = gauge('edp_db_table_size_bytes', 'The largest tables of each database, indexes and TOAST included', ['db', 'table'])
  const deadTuples = gauge('edp_db_table_dead_tuples', 'Dead tuples of those tables, as the statistics collector counts them', ['db', 'table'])
  const contentBytes = gauge('edp_content_bytes', 'Bodies in the content tier: raw and stored in all, stored of archived ones, raw of expired ones', ['kind'])
  const pruneOverdue = gauge('edp_prune_overdue_seconds', 'How far a table’s oldest row is past its retention: 0 while the prune keeps up', ['table'])

  const backupAge = optionalGauge('edp_backup_newest_age_seconds', 'Seconds since the newest complete backup set in BACKUP_DIR finished (absent without one)')

  const text = new Cached(async () => {
    const { queues, analytics, heartbeat_age_seconds, backup_age_seconds } = await deps.monitor.snapshot()
    for (const s of queues) {
      depth.set({ queue: s.queue }, s.depth)
      oldest.set({ queue: s.queue }, s.oldest_age_seconds ?? 0)
      processed.set({ queue: s.queue }, s.processed_per_second)
      failed.set({ queue: s.queue }, s.failed_per_second)
      dead.set({ queue: s.queue }, s.dead_letters)
    }
    freshness.reset()
    if (analytics.freshness_seconds !== null) freshness.set(analytics.freshness_seconds)
    refreshMs.set(analytics.duration_ms ?? 0)
    heartbeat(heartbeat_age_seconds)
    backupAge(backup_age_seconds)

    const ready = await deps.monitor.readiness()
    for (const tier of TIER_NAMES) {
      tierUp.set({ tier }, ready.tiers[tier].ok ? 1 : 0)
      const pool = deps.tiers[tier].pool?.()
      if (!pool) continue
      poolMax.set({ tier }, pool.max)
      poolInUse.set({ tier }, Math.min(pool.inFlight, pool.max))
      poolWaiting.set({ tier }, Math.max(0, pool.inFlight - pool.max))
    }
    replicaLag.reset()
    for (const [tier, r] of Object.entries(deps.tiers.replicas?.states() ?? {})) {
      replicaInUse.set({ tier }, r.inUse ? 1 : 0)
      if (r.lagS !== null) replicaLag.set({ tier }, r.lagS)
    }
    const capacity = await deps.monitor.capacity()
    dbBytes.reset()
    tableBytes.reset()
    deadTuples.reset()
    for (const d of capacity.databases) {
      dbBytes.set({ db: d.tiers }, d.bytes)
      for (const t of d.tables) {
        tableBytes.set({ db: d.tiers, table: t.table }, t.bytes)
        deadTuples.set({ db: d.tiers, table: t.table }, t.dead_tuples)
      }
    }
    for (const [kind, n] of Object.entries(capacity.content)) contentBytes.set({ kind }, n)
    for (const [table, s] of Object.entries(capacity.prune_overdue_seconds)) pruneOverdue.set({ table }, s)
    return registry.metrics()
  }, () => deps.clock.now())

  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number) {
      http.observe({ method, route, status: String(status) }, seconds)
    },
    /** The exposition text, from the monitor's last snapshot, rendered at most once a second. */
    render: (): Promise<string> => text.get(RENDER_TTL_MS),
  }
}

