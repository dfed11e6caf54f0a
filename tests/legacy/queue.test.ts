/**
 * `legacy migrate --via-queue`: the batches as legacy.batch jobs run by the worker runtime (two
 * workers at once, each reaching the source through its own LEGACY_SOURCE_URL). Threads across
 * batches link whatever order they commit in; redeliveries and a second enqueue change nothing;
 * a worker without the URL, or pointed at another database, refuses; a serial migrate will not
 * resume over a gap the queue left.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { checkMapping, LegacyReader, sourceLabel } from '../../src/legacy/source.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { enqueueLegacyBatches, runQueuedBatch, waitForBatches } from '../../src/services/legacy/queue.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { legacyRun, verifyLegacy } from '../../src/services/legacy/verify.ts'
import { getMessageThread } from '../../src/services/messages.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { rowCounts } from '../support/databases.ts'
import { emptyQueues } from '../support/queues.ts'
import { makeDeps, testConfig } from '../support/system.ts'
import { useShapeA } from './support.ts'

const N = 30

const fx = useShapeA(N)
const { sys, mapping } = fx
beforeAll(async () => {
  await emptyQueues(sys.tiers)
})

const label = () => sourceLabel(fx.src.url, mapping.table)
const reader = async () => new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
/** A worker process's deps: the same tiers, and the source in its own environment. */
const workerDeps = (url?: string) => makeDeps(sys.tiers, { config: testConfig(url ? { LEGACY_SOURCE_URL: url } : {}) })

describe('legacy migrate --via-queue', () => {
  test('batches as jobs across two workers: threads link, redeliveries and re-enqueues change nothing, workers without the source refuse', async () => {
    const plan = await enqueueLegacyBatches(sys.deps, { reader: await reader(), run: 'q', source: label(), tenant: null, batchSize: 3 })
    expect(plan).toEqual({ run: 'q', batches: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], enqueued: 10 })
    // The queue message holds the run and a key range: nothing of the source's address.
    const [message] = await sys.tiers.queue.query<{ message: string }>(`SELECT message::text AS message FROM pgmq.q_${QUEUES.jobs} ORDER BY msg_id LIMIT 1`)
    expect(message!.message).toContain('"job": "legacy.batch"')
    expect(message!.message).not.toContain(new URL(fx.src.url).host)

    // A worker whose environment does not name the source, or names another database, refuses.
    const job = { run: 'q', batch_no: 2, after: fx.ids[2]!, last: fx.ids[5]! }
    await expect(runQueuedBatch(workerDeps(), job)).rejects.toThrow('LEGACY_SOURCE_URL is not set in this worker')
    const other = new URL(fx.src.url)
    other.pathname = '/postgres'
    await expect(runQueuedBatch(workerDeps(other.toString()), job)).rejects.toThrow(`but run q reads ${label()}`)

    // One batch done out of order: a serial migrate will not resume over the gap it leaves.
    await runQueuedBatch(workerDeps(fx.src.url), job)
    await expect(migrateLegacy(sys.deps, { reader: await reader(), run: 'q', source: label(), tenant: null, batchSize: 3, rate: 0 })).rejects.toThrow(
      'run q has batches missing below 2',
    )

    // Two workers drain the queue together (batch 2's job finds its batch committed and does nothing).
    const workers = [new Worker(workerDeps(fx.src.url), { queues: [QUEUES.jobs], jobs: HANDLERS, batchSize: 2 }), new Worker(workerDeps(fx.src.url), { queues: [QUEUES.jobs], jobs: HANDLERS, batchSize: 2 })]
    const drain = async (w: Worker) => {
      while ((await w.runOnce(QUEUES.jobs)) > 0);
    }
    await Promise.all(workers.map(drain))
    await waitForBatches(sys.deps, plan, { pollMs: 10 })
    const report = await verifyLegacy(sys.deps, { reader: await reader(), run: await legacyRun(sys.deps, 'q') })
    expect(report).toMatchObject({ checked: N, mismatches: 0, not_migrated: 0 })
    // Every fourth row answers the one before it: 3→2 and 15→14 across batches of three, 7→6 within one.
    for (const k of [3, 7, 15]) expect((await getMessageThread(sys.deps, fx.world.tenant, fx.ids[k]!)).map((m) => m.id)).toEqual([fx.ids[k - 1]!, fx.ids[k]!])
    const [pending] = await sys.tiers.oltp.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.legacy_ids WHERE parent_legacy_id IS NOT NULL`)
    expect(Number(pending!.n)).toBe(0)

    // A redelivered job and a second enqueue change nothing.
    // The data, that is: the redelivery leaves its line in job_logs and its message in the archive.
    const data = async () => Object.fromEntries(Object.entries(await rowCounts(sys)).filter(([t]) => t !== 'queue.job_logs' && !t.startsWith('pgmq.')))
    const before = await data()
    await enqueue(sys.tiers.queue, 'legacy.batch', { run: 'q', batch_no: 5, after: fx.ids[11]!, last: fx.ids[14]! })
    await drain(workers[0]!)
    expect(await enqueueLegacyBatches(sys.deps, { reader: await reader(), run: 'q', source: label(), tenant: null, batchSize: 3 })).toMatchObject({ enqueued: 0 })
    expect(await data()).toEqual(before)

    await rollbackLegacy(sys.deps)
  }, 120_000)
})
