import { QUEUES } from '../../src/events/envelope.ts'
import { metrics } from '../../src/tiers/queue/pgmq.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { JOBS } from '../../workers/registry.ts'
import type { TestSystem } from './system.ts'

/** Runs the real workers until the events and jobs queues are empty (refreshes included). */
export async function drainWorkers(sys: TestSystem, worker = new Worker(sys.deps, { queues: [QUEUES.events, QUEUES.jobs], jobs: JOBS })) {
  await sys.deps.outbox.kick() // separate databases: events still in the OLTP outbox count as pending
  for (let i = 0; i < 200; i++) {
    const handled = (await worker.runOnce(QUEUES.events)) + (await worker.runOnce(QUEUES.jobs))
    if (handled > 0) continue
    const [events, jobs] = await Promise.all([metrics(sys.tiers.queue, QUEUES.events), metrics(sys.tiers.queue, QUEUES.jobs)])
    if (Number(events.queue_length) + Number(jobs.queue_length) === 0) return
    await Bun.sleep(20) // a retry or a delayed refresh is not visible yet
  }
  throw new Error('queues did not drain')
}
