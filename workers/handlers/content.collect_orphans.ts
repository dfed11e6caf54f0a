import { enqueue } from '../../src/jobs/enqueue.ts'
import { collectOrphanContent } from '../../src/services/orphans.ts'
import { defineJob } from '../job.ts'

const BATCH = 500

/** Removes content whose ref never committed, one bounded batch per run; a full batch enqueues the next. */
export const collectOrphans = defineJob('content.collect_orphans', async (_payload, { deps, log }) => {
  const removed = await collectOrphanContent(deps, BATCH)
  if (removed > 0) log.info({ removed }, 'orphan content collected')
  if (removed === BATCH) await enqueue(deps.tiers.queue, 'content.collect_orphans', {})
})
