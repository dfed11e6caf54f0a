/**
 * The analytics tier from both sides: recording facts (the workers apply events exactly once and
 * schedule the debounced refresh) and reading them (reports with their as_of, which needs the
 * queue tier, and the OLTP outbox when that is another database, to know what is still waiting).
 */
import type { Deps } from '../deps.ts'
import { sameDatabase } from '../db/tiers.ts'
import { invalid, notFound } from '../errors.ts'
import { enqueue } from '../jobs/enqueue.ts'
import type { JobPayload } from '../jobs/specs.ts'
import { applyEvents, type AnalyticsEvent } from '../tiers/analytics/events.ts'
import { claimOverdueRefresh, getRefreshState, markClean, recordRefresh, refreshMaterializedViews } from '../tiers/analytics/refresh.ts'
import { COUNT_COLUMNS, stepTotals, totals, type Counts, type DayRange } from '../tiers/analytics/views.ts'
import { campaignExists, listSequenceSteps } from '../tiers/oltp/campaigns.ts'
import { emailAccountExists } from '../tiers/oltp/email-accounts.ts'
import { oldestOutboxRow } from '../tiers/oltp/outbox.ts'
import { oldestPending } from '../tiers/queue/pgmq.ts'
import { QUEUES } from '../tiers/queue/queues.ts'

/** The one id a message's `sent` event has, whoever reports it. */
export const sentEventId = (messageId: string) => `${messageId}:sent`

/** How long a scheduled refresh may stay unrun before it counts as lost. */
const rescheduleAfterSeconds = (debounceSeconds: number) => Math.max(10, debounceSeconds * 5)

/**
 * Applies events to the analytics tier (one transaction: facts and rollups together), then, if
 * the views just went stale, schedules their refresh after the debounce. A crash between the two
 * leaves a refresh unscheduled; scheduleOverdueRefresh catches that.
 */
export async function recordEvents(deps: Deps, events: readonly AnalyticsEvent[]): Promise<number> {
  const debounce = deps.config.ANALYTICS_REFRESH_DEBOUNCE_S
  const { applied, schedule } = await applyEvents(deps.tiers.analytics, events, rescheduleAfterSeconds(debounce))
  if (schedule) await enqueue(deps.tiers.queue, 'analytics.refresh', {}, debounce)
  return applied
}

/**
 * A stored message as facts: an outbound message is `sent`; an inbound reply, auto-reply or
 * bounce is `replied`, `auto_replied` or `bounced` on the outbound message it answers. Event ids
 * derive from the stored message's id, so a redelivered job changes nothing.
 */
export function recordMessageCreated(deps: Deps, p: JobPayload<'message.created'>): Promise<number> {
  const events: AnalyticsEvent[] = []
  const e = p.event
  if (e) {
    events.push({
      tenant_id: p.tenant_id,
      event_id: `${p.message_id}:${e.type}`,
      message_id: e.message_id,
      type: e.type,
      bounce_type: e.bounce_type,
      occurred_at: p.occurred_at,
      email_account_id: e.email_account_id,
      campaign_id: e.campaign_id,
      sequence_step_id: e.sequence_step_id,
      metadata: { inbound_message_id: p.message_id },
    })
  }
  if (p.direction === 'outbound') {
    events.push({
      tenant_id: p.tenant_id,
      event_id: sentEventId(p.message_id),
      message_id: p.message_id,
      type: 'sent',
      bounce_type: null,
      occurred_at: p.occurred_at,
      email_account_id: p.email_account_id,
      campaign_id: p.campaign_id,
      sequence_step_id: p.sequence_step_id,
      metadata: null,
    })
  }
  return events.length ? recordEvents(deps, events) : Promise.resolve(0)
}

/**
 * The moment before which every accepted event has been applied: the oldest event still waiting
 * (in the events queue, or in the OLTP outbox when the queue is another database), or now when
 * nothing waits.
 */
async function watermark(deps: Deps): Promise<Date> {
  const { tiers } = deps
  const [queue, outbox] = await Promise.all([
    oldestPending(tiers.queue, QUEUES.events),
    sameDatabase(tiers.oltp, tiers.queue) ? undefined : oldestOutboxRow(tiers.oltp),
  ])
  const candidates = [queue.now, queue.oldest, outbox].filter((d): d is Date => d instanceof Date)
  return new Date(Math.min(...candidates.map((d) => d.getTime())))
}

/**
 * Refreshes the three views. The watermark is taken first and the views marked clean before the
 * refresh, so the recorded as_of never claims an event the refresh did not see. A failure throws,
 * so the queue retries it and the failure shows in job_logs.
 */
export async function refreshViews(deps: Deps): Promise<{ asOf: Date; ms: number }> {
  const asOf = await watermark(deps)
  await markClean(deps.tiers.analytics)
  const t0 = performance.now()
  await refreshMaterializedViews(deps.tiers.analytics)
  const ms = Math.round(performance.now() - t0)
  await recordRefresh(deps.tiers.analytics, asOf, ms)
  return { asOf, ms }
}

/** The safety net the workers run periodically: a dirty view never waits on a lost refresh job. */
export async function scheduleOverdueRefresh(deps: Deps): Promise<boolean> {
  const after = rescheduleAfterSeconds(deps.config.ANALYTICS_REFRESH_DEBOUNCE_S)
  if (!(await claimOverdueRefresh(deps.tiers.analytics, after))) return false
  await enqueue(deps.tiers.queue, 'analytics.refresh', {})
  return true
}

/**
 * The as_of of what the views show now. Read the watermark first, then the state: if the views
 * are still clean, nothing was applied after their last refresh began, so everything accepted
 * before the watermark is in them. Otherwise they are as of their last refresh (null: never).
 */
async function viewsState(deps: Deps) {
  const w = await watermark(deps)
  const state = await getRefreshState(deps.tiers.analytics)
  return { asOf: state.dirty_since === null ? w : state.as_of, state }
}

const viewsAsOf = async (deps: Deps) => (await viewsState(deps)).asOf

/** Seconds since as_of on the process clock; null before the first refresh. */
const freshnessSeconds = (deps: Deps, asOf: Date | null) => (asOf ? Math.max(0, (deps.clock.now() - asOf.getTime()) / 1000) : null)

/** The refresh's own figures, for monitoring. */
export async function refreshStatus(deps: Deps) {
  const { asOf, state } = await viewsState(deps)
  return { as_of: asOf, freshness_seconds: freshnessSeconds(deps, asOf), duration_ms: state.duration_ms }
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null)

/** Counts plus rates over messages sent (over the whole range: a rate per day would not add up). */
function report(deps: Deps, counts: Counts, asOf: Date | null) {
  return {
    ...counts,
    open_rate: rate(counts.unique_opened, counts.sent),
    click_rate: rate(counts.unique_clicked, counts.sent),
    reply_rate: rate(counts.unique_replied, counts.sent),
    bounce_rate: rate(counts.bounced, counts.sent),
    as_of: asOf?.toISOString() ?? null,
    freshness_seconds: freshnessSeconds(deps, asOf),
  }
}

export type Report = ReturnType<typeof report>

/** UTC days, both ends optional and inclusive. */
export interface DayRangeInput {
  from?: string
  to?: string
}

function dayRange(r: DayRangeInput): DayRange {
  if (r.from && r.to && r.from > r.to) throw invalid('from is after to', 'from', 'must not be after to')
  return { from: r.from ?? null, to: r.to ?? null }
}

const zero = () => Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])) as Counts

export async function campaignReport(deps: Deps, tenantId: string, campaignId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  const asOf = await viewsAsOf(deps)
  return { campaign_id: campaignId, ...report(deps, await totals(deps.tiers.analytics, 'campaign', tenantId, campaignId, r), asOf) }
}

/** One report per sequence step of the campaign, in step order (steps without events count zero). */
export async function stepReports(deps: Deps, tenantId: string, campaignId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  const asOf = await viewsAsOf(deps)
  const [steps, byStep] = await Promise.all([
    listSequenceSteps(deps.tiers.oltp, tenantId, campaignId),
    stepTotals(deps.tiers.analytics, tenantId, campaignId, r),
  ])
  const data = steps.map((s) => ({ sequence_step_id: s.id, step_number: s.step_number, ...report(deps, byStep.get(s.id) ?? zero(), asOf) }))
  return { data, as_of: asOf?.toISOString() ?? null }
}

export async function mailboxReport(deps: Deps, tenantId: string, emailAccountId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await emailAccountExists(deps.tiers.oltp, tenantId, emailAccountId))) throw notFound('email account')
  const asOf = await viewsAsOf(deps)
  return { email_account_id: emailAccountId, ...report(deps, await totals(deps.tiers.analytics, 'mailbox', tenantId, emailAccountId, r), asOf) }
}
