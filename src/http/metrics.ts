/**
 * Prometheus metrics. Queue, analytics and worker figures come from the tiers, so every process
 * reports the same truth whatever it runs; they are the monitor's last read (services/monitor.ts),
 * so scrapes never query. The text itself is rendered at most once a second: rendering costs about
 * 4 ms of the one event loop (the process collectors mostly), and 32 connections scraping in a
 * loop left tenant requests 4 per second when every scrape rendered.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { Cached } from '../cached.ts'
import type { Deps } from '../deps.ts'

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

