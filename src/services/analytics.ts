/**
 * Freshness of the analytics views. The watermark is the moment before which every accepted
 * event has been applied: the oldest event still waiting (in the events queue, or in the OLTP
 * outbox when the queue is another database), or now when nothing waits.
 */
import type { Tiers } from '../db/tiers.ts'
import { sameDatabase } from '../db/tiers.ts'
import type { Deps } from '../deps.ts'
import { enqueue } from '../jobs/enqueue.ts'
import { claimOverdueRefresh, getRefreshState } from '../tiers/analytics/refresh.ts'
import { oldestPending } from '../tiers/queue/pgmq.ts'
import { oldestOutboxRow } from '../tiers/oltp/outbox.ts'
import { QUEUES } from '../events/envelope.ts'
import type { Counts } from '../tiers/analytics/views.ts'

export async function watermark(tiers: Tiers): Promise<Date> {
  const [queue, outbox] = await Promise.all([
    oldestPending(tiers.queue, QUEUES.events),
    sameDatabase(tiers.oltp, tiers.queue) ? undefined : oldestOutboxRow(tiers.oltp),
  ])
  const candidates = [queue.now, queue.oldest, outbox].filter((d): d is Date => d instanceof Date)
  return new Date(Math.min(...candidates.map((d) => d.getTime())))
}

/**
 * The as_of of what the views show now. Read the watermark first, then the state: if the views
 * are still clean, nothing was applied after their last refresh began, so everything accepted
 * before the watermark is in them. Otherwise they are as of their last refresh (null: never).
 */
export async function viewsAsOf(tiers: Tiers): Promise<Date | null> {
  const w = await watermark(tiers)
  const state = await getRefreshState(tiers.analytics)
  return state.dirty_since === null ? w : state.as_of
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null)

/** Counts plus rates over messages sent, as the analytics API answers them. */
export function report(counts: Counts, asOf: Date | null) {
  return {
    ...counts,
    open_rate: rate(counts.unique_opened, counts.sent),
    click_rate: rate(counts.unique_clicked, counts.sent),
    reply_rate: rate(counts.unique_replied, counts.sent),
    bounce_rate: rate(counts.bounced, counts.sent),
    as_of: asOf?.toISOString() ?? null,
    freshness_seconds: asOf ? Math.max(0, (Date.now() - asOf.getTime()) / 1000) : null,
  }
}

/** How long a scheduled refresh may stay unrun before it counts as lost. */
export const rescheduleAfterSeconds = (debounceSeconds: number) => Math.max(10, debounceSeconds * 5)

/** The safety net the workers run periodically: a dirty view never waits on a lost refresh job. */
export async function scheduleOverdueRefresh(deps: Deps): Promise<boolean> {
  const after = rescheduleAfterSeconds(deps.config.ANALYTICS_REFRESH_DEBOUNCE_S)
  if (!(await claimOverdueRefresh(deps.tiers.analytics, after))) return false
  await enqueue(deps.tiers.queue, 'analytics.refresh', {})
  return true
}
