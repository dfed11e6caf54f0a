import { refreshViews } from '../../src/services/analytics.ts'
import { defineJob } from '../job.ts'

/** Refreshes the three views; a failure throws, so the queue retries it and job_logs shows it. */
export const analyticsRefresh = defineJob('analytics.refresh', async (_payload, { deps, log }) => {
  const { asOf, ms, rows } = await refreshViews(deps)
  log.debug({ as_of: asOf, ms, rows }, 'analytics views refreshed')
})
