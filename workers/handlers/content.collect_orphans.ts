import { enqueue } from '../../src/jobs/enqueue.ts'
import { collectOrphanContent } from '../../src/services/orphans.ts'
import { defineJob } from '../job.ts'

/** Removes content whose ref never committed, one bounded batch per run; a full batch enqueues the next. */
export const collectOrphans = defineJob('content.collect_orphans', async ({ batch_size }, { deps, log }) => {
  const { removed, more } = await collectOrphanContent(deps, batch_size)
  if (removed > 0) log.info({ removed }, 'orphan content collected')
  if (more) await enqueue(deps.tiers.queue, 'content.collect_orphans', { batch_size })
})
