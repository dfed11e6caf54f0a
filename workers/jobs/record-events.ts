import type { Deps } from '../../src/deps.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { applyEvents, type AnalyticsEvent } from '../../src/tiers/analytics/apply.ts'
import { rescheduleAfterSeconds } from '../../src/services/analytics.ts'

/**
 * Applies events to the analytics tier (one transaction: facts and rollups together), then, if
 * the views just went stale, schedules their refresh after the debounce. A crash between the two
 * leaves a refresh unscheduled; the workers' periodic scheduleOverdueRefresh catches that.
 */
export async function recordEvents(deps: Deps, events: readonly AnalyticsEvent[]): Promise<number> {
  const debounce = deps.config.ANALYTICS_REFRESH_DEBOUNCE_S
  const { applied, schedule } = await applyEvents(deps.tiers.analytics, events, rescheduleAfterSeconds(debounce))
  if (schedule) await enqueue(deps.tiers.queue, 'analytics.refresh', {}, debounce)
  return applied
}
