import { enqueue } from '../../src/jobs/enqueue.ts'
import { pruneBatch } from '../../src/services/prune.ts'
import { defineJob } from '../job.ts'

/**
 * Deletes what is past its retention, one bounded batch per table per run; the tables whose batch
 * was full get a follow-up job that resumes where they stopped. Stale outbox rows are only reported.
 */
export const prune = defineJob('maintenance.prune', async ({ batch_size, resume }, { deps, log }) => {
  const run = await pruneBatch(deps, { batch_size, resume })
  if (Object.values(run.deleted).some((n) => n > 0)) log.info({ deleted: run.deleted }, 'pruned past retention')
  if (run.outbox && run.outbox.stale > 0) {
    log.warn(run.outbox, 'outbox rows older than OUTBOX_STALE_AFTER_S were never relayed: is the relay running?')
  }
  if (Object.keys(run.resume).length > 0) await enqueue(deps.tiers.queue, 'maintenance.prune', { batch_size, resume: run.resume })
})
