/**
 * A worker process for the crash and race tests: the real runtime over the tiers its environment
 * names, running test.effect. Prints "ready" once reading and "ran <key>" after each handler.
 */
import pino from 'pino'
import { loadConfig } from '../../src/config.ts'
import { openTiers } from '../../src/db/tiers.ts'
import { buildDeps } from '../../src/system.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { testJobs } from './test-jobs.ts'

const config = loadConfig()
const tiers = await openTiers(config, 'edp-test-worker')
const deps = buildDeps(tiers, { config, log: pino({ level: 'silent' }) })
const worker = new Worker(deps, {
  queues: [QUEUES.jobs],
  jobs: testJobs((key) => console.log(`ran ${key}`)),
  batchSize: Number(process.env.BATCH_SIZE ?? 10),
  visibilityTimeout: Number(process.env.VT ?? 30),
  minConcurrency: Number(process.env.CONCURRENCY ?? 1),
  maxConcurrency: Number(process.env.CONCURRENCY ?? 1),
  pollIntervalMs: 100,
})
// Installed before "ready": a SIGTERM sent the moment the test sees that line must find it.
process.once('SIGTERM', async () => {
  const released = await worker.stop({ timeoutMs: Number(process.env.SHUTDOWN_MS ?? 5_000) })
  console.log(`stopped released=${released}`)
  await tiers.close()
  process.exit(0)
})
await worker.start()
console.log('ready')
