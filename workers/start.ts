/**
 * The worker side of a process: readers on every work queue running the registered handlers, the
 * outbox sweep (relays what a crashed API left in the OLTP outbox), and the maintenance
 * scheduler. The same in a worker-only process and in the embedded all-in-one process.
 */
import type { Deps } from '../src/deps.ts'
import { HANDLERS, queuesOf } from './handlers/index.ts'
import { Worker } from './runtime/worker.ts'
import { maintenance, Scheduler } from './schedule.ts'

export interface RunningWorkers {
  worker: Worker
  scheduler: Scheduler
  /** Stops scheduling and reading, waits up to WORKER_SHUTDOWN_TIMEOUT_MS for jobs in flight, stops the sweep. */
  stop(): Promise<void>
}

export async function startWorkers(deps: Deps): Promise<RunningWorkers> {
  const { config } = deps
  const worker = new Worker(deps, {
    queues: queuesOf(HANDLERS),
    jobs: HANDLERS,
    minConcurrency: config.WORKER_MIN_CONCURRENCY,
    maxConcurrency: config.WORKER_MAX_CONCURRENCY,
    batchSize: config.WORKER_BATCH_SIZE,
    visibilityTimeout: config.WORKER_VISIBILITY_TIMEOUT_S,
  })
  await worker.start()
  deps.outbox.startSweep()
  const schedules = maintenance(config)
  // Four looks per interval, at most one every 5 s: a slot's job goes out within a quarter of
  // its interval, and the refresh safety net in the same tick runs every 5 s.
  const tickMs = Math.min(5_000, Math.min(...schedules.map((s) => s.everySeconds)) * 250)
  const scheduler = new Scheduler(deps, schedules, tickMs)
  scheduler.start()
  return {
    worker,
    scheduler,
    async stop() {
      await scheduler.stop()
      await worker.stop({ timeoutMs: config.WORKER_SHUTDOWN_TIMEOUT_MS })
      await deps.outbox.stop()
    },
  }
}
