import { enqueue } from '../../src/jobs/enqueue.ts'
import { archiveDue } from '../../src/services/retention.ts'
import { defineJob } from '../job.ts'

/** Moves old bodies to the warm tier, one bounded batch per run; a full batch enqueues the next. */
export const archiveContent = defineJob('content.archive', async ({ batch_size }, { deps, log }) => {
  const { more, ...run } = await archiveDue(deps, batch_size)
  if (run.archived) log.info(run, 'content archived')
  if (more) await enqueue(deps.tiers.queue, 'content.archive', { batch_size })
})
