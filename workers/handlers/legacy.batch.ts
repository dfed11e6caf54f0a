import { runQueuedBatch } from '../../src/services/legacy/queue.ts'
import { defineJob } from '../job.ts'

/** One batch of `legacy migrate --via-queue`; a batch already committed is skipped, so a redelivery changes nothing. */
export const legacyBatch = defineJob('legacy.batch', async (payload, { deps }) => {
  await runQueuedBatch(deps, payload)
})
