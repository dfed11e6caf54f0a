/** Driving the real job handlers from a test, batch by batch, without starting a worker's loops. */
import { metrics } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES, WORK_QUEUES } from '../../src/tiers/queue/queues.ts'
import type { Tiers } from '../../src/db/tiers.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import type { TestSystem } from './system.ts'

const handlers = (sys: TestSystem) => new Worker(sys.deps, { queues: [...WORK_QUEUES], jobs: HANDLERS })

/** Runs every visible message through its handler until none is visible; hidden ones (delayed, backing off) stay hidden. */
export async function runVisible(sys: TestSystem, worker = handlers(sys)): Promise<number> {
  await sys.deps.outbox.kick() // separate databases: events still in the OLTP outbox
  let handled = 0
  for (let n = -1; n !== 0; handled += n) n = (await worker.runOnce(QUEUES.events)) + (await worker.runOnce(QUEUES.jobs))
  return handled
}

/** Makes every message in a queue visible now, as if its delay or visibility timeout had run out. */
export const revealAll = (tiers: Tiers, queue: string) => tiers.queue.exec(`UPDATE pgmq.q_${queue} SET vt = now()`)

export const depth = async (tiers: Tiers, queue: string) => Number((await metrics(tiers.queue, queue)).queue_length)

/**
 * Runs the real handlers until the events and jobs queues are empty (refreshes included), moving
 * delayed and backed-off messages forward instead of waiting for them.
 */
export async function drainQueues(sys: TestSystem, worker = handlers(sys)): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await runVisible(sys, worker)
    if ((await depth(sys.tiers, QUEUES.events)) + (await depth(sys.tiers, QUEUES.jobs)) === 0) return
    for (const q of WORK_QUEUES) await revealAll(sys.tiers, q)
  }
  throw new Error('queues did not drain')
}

/** Empties the work queues: a test that counts queue messages starts from none. */
export async function emptyQueues(tiers: Tiers): Promise<void> {
  for (const q of WORK_QUEUES) await tiers.queue.query(`SELECT pgmq.purge_queue($1)`, [q])
}
