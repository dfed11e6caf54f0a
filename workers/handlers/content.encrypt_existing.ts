import { enqueue } from '../../src/jobs/enqueue.ts'
import { sealExisting } from '../../src/services/encrypt-existing.ts'
import { defineJob } from '../job.ts'

/** Seals rows written before encryption at rest, one bounded batch per table per run; a full batch enqueues the next from where it stopped. */
export const encryptExisting = defineJob('content.encrypt_existing', async ({ batch_size, resume }, { deps, log }) => {
  const { next, ...run } = await sealExisting(deps, batch_size, resume)
  if (run.bodies + run.blobs + run.attachments > 0) log.info(run, 'content written before encryption sealed')
  if (next) await enqueue(deps.tiers.queue, 'content.encrypt_existing', { batch_size, resume: next })
})
