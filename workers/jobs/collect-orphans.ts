import { enqueue } from '../../src/jobs/enqueue.ts'
import { collectOrphanContent } from '../../src/services/orphans.ts'
import { defineJob } from '../job.ts'

const BATCH = 500

/**
 * Removes content whose ref never committed, older than the grace period, a bounded batch per run;
 * a full batch enqueues the next run, so a large backlog never becomes one giant transaction.
 */
export const collectOrphans = defineJob('content.collect_orphans', async (_p, { deps, log }) => {
  const removed = await collectOrphanContent(deps.tiers, deps.config.CONTENT_ORPHAN_GRACE_S, BATCH)
  if (removed > 0) log.info({ removed }, 'orphan content collected')
  if (removed === BATCH) await enqueue(deps.tiers.queue, 'content.collect_orphans', {})
})
