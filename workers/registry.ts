import { jobMap, type JobMap } from './job.ts'
import { analyticsRefresh } from './jobs/analytics-refresh.ts'
import { collectOrphans } from './jobs/collect-orphans.ts'
import { expireContentJob } from './jobs/expire-content.ts'
import { recomputeExpiry } from './jobs/recompute-expiry.ts'
import { archiveContent } from './jobs/archive-content.ts'
import { eventsApply } from './jobs/events-apply.ts'
import { messageCreated } from './jobs/message-created.ts'

/** Every job the workers know, by name. A message naming anything else is a dead letter. */
export const JOBS: JobMap = jobMap([messageCreated, eventsApply, analyticsRefresh, collectOrphans, expireContentJob, recomputeExpiry, archiveContent])

export const queuesOf = (jobs: JobMap) => [...new Set([...jobs.values()].map((j) => j.queue))]
