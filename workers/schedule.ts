/**
 * Periodic maintenance, run once per interval across every worker process: each process ticks,
 * and for each schedule tries to claim the current slot in the queue tier; the one that wins
 * enqueues the job (claim and enqueue in one transaction). Three processes mean one run per
 * slot, not three. The tick also runs the analytics refresh safety net, which is claimed in the
 * analytics tier (at most one refresh per overdue period, however many processes look).
 */
import { hostname } from 'node:os'
import type { Config } from '../src/config.ts'
import type { Deps } from '../src/deps.ts'
import { enqueueOncePerSlot, slotOf } from '../src/jobs/enqueue.ts'
import type { JobName, JobPayload } from '../src/jobs/specs.ts'
import { holdHandle } from '../src/open-handles.ts'
import { scheduleOverdueRefresh } from '../src/services/analytics.ts'

export interface Schedule<J extends JobName = JobName> {
  job: J
  payload: JobPayload<J>
  everySeconds: number
}

const schedule = <J extends JobName>(s: Schedule<J>): Schedule => s

/** Retention is measured in days and orphans are rare: every ten minutes (MAINTENANCE_INTERVAL_S) is plenty. The prune runs then too. */
export const maintenance = (config: Pick<Config, 'MAINTENANCE_INTERVAL_S' | 'BACKUP_DIR' | 'BACKUP_INTERVAL_MIN'>): Schedule[] => [
  schedule({ job: 'content.collect_orphans', payload: { batch_size: 500 }, everySeconds: config.MAINTENANCE_INTERVAL_S }),
  schedule({ job: 'content.expire', payload: { batch_size: 500 }, everySeconds: config.MAINTENANCE_INTERVAL_S }),
  schedule({ job: 'content.archive', payload: { batch_size: 200 }, everySeconds: config.MAINTENANCE_INTERVAL_S }),
  // Finds nothing (through an empty partial index) once every row written before encryption is sealed.
  schedule({ job: 'content.encrypt_existing', payload: { batch_size: 200 }, everySeconds: config.MAINTENANCE_INTERVAL_S }),
  // 5,000 rows per table per job, each table one statement: p50 265 ms a job with three tables
  // full on the loaded 2-core benchmark machine (bench prune); at 1M jobs an hour a slot's 167k
  // job_logs rows take 34 chained jobs.
  schedule({ job: 'maintenance.prune', payload: { batch_size: 5_000 }, everySeconds: config.MAINTENANCE_INTERVAL_S }),
  ...(config.BACKUP_DIR ? [schedule({ job: 'maintenance.backup', payload: {}, everySeconds: config.BACKUP_INTERVAL_MIN * 60 })] : []),
]

export class Scheduler {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  /** The last slot this process asked for each job: a slot is asked for once, won or lost (a failed ask is asked again). */
  readonly #asked = new Map<string, number>()
  #timer: ReturnType<typeof setInterval> | undefined
  #released: (() => void) | undefined
  #ticking: Promise<unknown> | undefined

  constructor(
    private readonly deps: Deps,
    private readonly schedules: readonly Schedule[],
    /** How often to look; a slot's job is enqueued within one tick of the slot starting. */
    private readonly tickMs = 5_000,
  ) {}

  /** One look: claims every schedule's current slot not tried yet. Returns the jobs this process enqueued. */
  async tick(): Promise<string[]> {
    const won: string[] = []
    for (const s of this.schedules) {
      const slot = slotOf(this.deps.clock.now(), s.everySeconds)
      if (this.#asked.get(s.job) === slot.getTime()) continue
      if (await enqueueOncePerSlot(this.deps.tiers.queue, { ...s, slot }, this.id)) won.push(s.job)
      this.#asked.set(s.job, slot.getTime())
    }
    await scheduleOverdueRefresh(this.deps)
    return won
  }

  start(): void {
    if (this.#timer) return
    const run = () => {
      // A slow tick is not overlapped by the next one.
      this.#ticking ??= this.tick()
        .catch((err) => this.deps.log.error({ err }, 'maintenance tick failed; the next tick tries again'))
        .finally(() => (this.#ticking = undefined))
    }
    run()
    this.#timer = setInterval(run, this.tickMs)
    this.#timer.unref?.()
    this.#released = holdHandle('timer', `maintenance scheduler ${this.id}`)
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#released?.()
    await this.#ticking
  }
}
