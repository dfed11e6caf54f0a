import { enqueue } from '../../src/jobs/enqueue.ts'
import { expireDue } from '../../src/services/retention.ts'
import { defineJob } from '../job.ts'

/** Expires content past its retention, one bounded batch per run; a full batch enqueues the next. */
export const expireContent = defineJob('content.expire', async ({ batch_size }, { deps, log }) => {
  const { more, ...counts } = await expireDue(deps, batch_size)
  if (Object.values(counts).some((n) => n > 0)) log.info(counts, 'content expired')
  if (more) await enqueue(deps.tiers.queue, 'content.expire', { batch_size })
})
