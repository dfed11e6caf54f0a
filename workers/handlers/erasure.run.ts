import { enqueue } from '../../src/jobs/enqueue.ts'
import { runErasure } from '../../src/services/erasure/run.ts'
import { defineJob } from '../job.ts'

/**
 * A few steps of an erasure request; the next run is enqueued while there is more (later, when a
 * worker still holds a message naming the person). A copy that finds the request moved on by
 * another run stops: that run carries it.
 */
export const erasureRun = defineJob('erasure.run', async ({ request_id }, { deps, log, signal }) => {
  const run = await runErasure(deps, request_id, { signal })
  if (run.kind === 'more') await enqueue(deps.tiers.queue, 'erasure.run', { request_id })
  if (run.kind === 'wait') await enqueue(deps.tiers.queue, 'erasure.run', { request_id }, run.seconds)
  if (run.kind === 'done') log.info({ erasure_request: request_id }, 'erasure request completed')
})
