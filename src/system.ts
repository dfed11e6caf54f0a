import pino, { type Logger } from 'pino'
import type { Config } from './config.ts'
import type { Deps } from './deps.ts'
import { migrateAll } from './db/migrate.ts'
import { openTiers, type Tiers } from './db/tiers.ts'
import { OutboxRelay } from './events/outbox-relay.ts'
import { scheduleOverdueRefresh } from './services/analytics.ts'
import { enqueue } from './jobs/enqueue.ts'
import { createApp } from './http/app.ts'
import { Worker } from '../workers/runtime/worker.ts'
import { JOBS, queuesOf } from '../workers/registry.ts'

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({ level: config.LOG_LEVEL, base: { pid: process.pid } })
}

/** Builds the one Deps object from open tiers; tests call this with tiers over PGlite. */
export function buildDeps(config: Config, tiers: Tiers, log: Logger, adminToken: string): Deps {
  return { config, tiers, log, adminToken, outbox: new OutboxRelay(tiers, log) }
}

export interface System {
  deps: Deps
  app: ReturnType<typeof createApp>
  worker?: Worker
  stop(): Promise<void>
}

/** Opens and migrates every tier, then builds the app and (optionally) starts the workers. */
export async function startSystem(
  config: Config,
  opts: { adminToken: string; log: Logger; workers: boolean; role: string },
): Promise<System> {
  const tiers = await openTiers(config, `edp-${opts.role}`)
  try {
    const applied = await migrateAll(tiers)
    const any = Object.values(applied).some((a) => a.length)
    if (any) opts.log.info({ applied }, 'migrations applied')
  } catch (err) {
    await tiers.close()
    throw err
  }
  const deps = buildDeps(config, tiers, opts.log, opts.adminToken)
  const app = createApp(deps)
  let worker: Worker | undefined
  let maintenance: ReturnType<typeof setInterval> | undefined
  let orphanSweep: ReturnType<typeof setInterval> | undefined
  if (opts.workers) {
    worker = new Worker(deps, {
      queues: queuesOf(JOBS),
      jobs: JOBS,
      minConcurrency: config.WORKER_MIN_CONCURRENCY,
      maxConcurrency: config.WORKER_MAX_CONCURRENCY,
      batchSize: config.WORKER_BATCH_SIZE,
      visibilityTimeout: config.WORKER_VISIBILITY_TIMEOUT_S,
    })
    await worker.start()
    deps.outbox.startSweep()
    maintenance = setInterval(() => {
      scheduleOverdueRefresh(deps).catch((err) => opts.log.error({ err }, 'could not check for an overdue analytics refresh'))
    }, 5_000)
    maintenance.unref?.()
    // Retention is measured in days and orphans are rare: looking every ten minutes is plenty.
    orphanSweep = setInterval(() => {
      const schedule = (p: Promise<unknown>) => p.catch((err) => opts.log.error({ err }, 'could not schedule content maintenance'))
      schedule(enqueue(tiers.queue, 'content.collect_orphans', {}))
      schedule(enqueue(tiers.queue, 'content.expire', { batch_size: 500 }))
      schedule(enqueue(tiers.queue, 'content.archive', { batch_size: 200 }))
    }, 10 * 60_000)
    orphanSweep.unref?.()
  }
  return {
    deps,
    app,
    worker,
    async stop() {
      clearInterval(maintenance)
      clearInterval(orphanSweep)
      await worker?.stop({ timeoutMs: config.WORKER_SHUTDOWN_TIMEOUT_MS })
      await deps.outbox.stop()
      await tiers.close()
    },
  }
}
