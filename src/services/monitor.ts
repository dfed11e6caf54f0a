/**
 * What /metrics and /ready read, cached so that probes cost the tiers a bounded amount however
 * many arrive: 32 connections scraping /metrics in a loop cut a tenant's listing from 1,016 to 7
 * requests/s when every scrape queried the queue and analytics tiers.
 *
 * - The metrics snapshot is read every METRICS_REFRESH_S by a timer that the API process starts;
 *   a scrape renders the last one. Without the timer (a process or test that never started it) a
 *   scrape reads it at most once per interval.
 * - Readiness is checked at most once a second.
 * - Capacity figures (database and table sizes, dead tuples, content bytes, prune lag) scan whole
 *   tables, so a scrape reads them at most every METRICS_SLOW_REFRESH_S.
 * Either way, concurrent callers share one read (single flight).
 */
import type { Deps } from '../deps.ts'
import { Cached } from '../cached.ts'
import { holdHandle } from '../open-handles.ts'
import { capacitySnapshot, monitoringSnapshot, readiness, type CapacitySnapshot, type MonitoringSnapshot, type Readiness } from './operations.ts'

/** Every database call's duration, for the /metrics histogram (the data layer times them). */
export { observeQueries } from '../db/stats.ts'

const READY_TTL_MS = 1_000

export class Monitor {
  readonly #snapshot: Cached<MonitoringSnapshot>
  readonly #ready: Cached<Readiness>
  readonly #capacity: Cached<CapacitySnapshot>
  readonly #intervalMs: number
  #timer: ReturnType<typeof setInterval> | undefined
  #released: (() => void) | undefined

  constructor(private readonly deps: Deps) {
    const now = () => deps.clock.now()
    this.#snapshot = new Cached(() => monitoringSnapshot(deps), now)
    this.#ready = new Cached(() => readiness(deps), now)
    this.#capacity = new Cached(() => capacitySnapshot(deps), now)
    this.#intervalMs = deps.config.METRICS_REFRESH_S * 1000
  }

  /** The figures /metrics shows. With the timer running a scrape never waits for the tiers (only the very first one). */
  snapshot(): Promise<MonitoringSnapshot> {
    // The timer keeps it younger than one interval; past two, the timer is not running (or stuck).
    return this.#snapshot.get(this.#timer ? 2 * this.#intervalMs : this.#intervalMs)
  }

  /** Sizes, dead tuples, content bytes, prune lag: full-table figures, read at most every METRICS_SLOW_REFRESH_S. */
  capacity(): Promise<CapacitySnapshot> {
    return this.#capacity.get(this.deps.config.METRICS_SLOW_REFRESH_S * 1000)
  }

  readiness(): Promise<Readiness> {
    return this.#ready.get(READY_TTL_MS)
  }

  /** Reads the snapshot now and every METRICS_REFRESH_S until stop(). */
  start(): void {
    if (this.#timer) return
    const refresh = () =>
      void this.#snapshot.refresh().catch((err) => this.deps.log.warn({ err }, 'metrics refresh failed; scrapes fail until one succeeds'))
    refresh()
    this.#timer = setInterval(refresh, this.#intervalMs)
    this.#timer.unref?.()
    this.#released = holdHandle('timer', 'metrics refresh')
  }

  /** Stops the timer and waits for a read in flight, so none outlives the tiers. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#released?.()
    await Promise.all([this.#snapshot.idle(), this.#ready.idle(), this.#capacity.idle()])
  }
}
