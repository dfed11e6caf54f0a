import { jobMap, type JobMap } from '../job.ts'
import { analyticsRefresh } from './analytics.refresh.ts'
import { archiveContent } from './content.archive.ts'
import { collectOrphans } from './content.collect_orphans.ts'
import { encryptExisting } from './content.encrypt_existing.ts'
import { expireContent } from './content.expire.ts'
import { recomputeExpiryJob } from './content.recompute_expiry.ts'
import { erasureRun } from './erasure.run.ts'
import { eventsApply } from './events.apply.ts'
import { legacyBatch } from './legacy.batch.ts'
import { backup } from './maintenance.backup.ts'
import { prune } from './maintenance.prune.ts'
import { messageCreated } from './message.created.ts'

/** Every job the workers run, by name; one file per job, named after it. A message naming anything else is a dead letter. */
export const HANDLERS: JobMap = jobMap([
  messageCreated,
  eventsApply,
  analyticsRefresh,
  collectOrphans,
  expireContent,
  archiveContent,
  encryptExisting,
  recomputeExpiryJob,
  prune,
  backup,
  erasureRun,
  legacyBatch,
])

export const queuesOf = (jobs: JobMap) => [...new Set([...jobs.values()].map((j) => j.queue))]
