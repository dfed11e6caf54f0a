import { watermark } from '../../src/services/analytics.ts'
import { markClean, recordRefresh, refreshViews } from '../../src/tiers/analytics/refresh.ts'
import { defineJob } from '../job.ts'

/**
 * Refreshes the three views. The watermark is taken first and the views marked clean before the
 * refresh, so the recorded as_of never claims an event the refresh did not see. A failure throws:
 * the queue retries it and the failure shows in job_logs.
 */
export const analyticsRefresh = defineJob('analytics.refresh', async (_payload, { deps, log }) => {
  const asOf = await watermark(deps.tiers)
  await markClean(deps.tiers.analytics)
  const t0 = performance.now()
  await refreshViews(deps.tiers.analytics)
  const ms = Math.round(performance.now() - t0)
  await recordRefresh(deps.tiers.analytics, asOf, ms)
  log.debug({ as_of: asOf, ms }, 'analytics views refreshed')
})
