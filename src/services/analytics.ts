/**
 * The analytics tier from both sides: recording facts (the workers apply events exactly once and
 * schedule the debounced refresh) and reading them (reports with their as_of, which needs the
 * queue tier, and the OLTP outbox when that is another database, to know what is still waiting).
 */
import type { Deps } from '../deps.ts'
import { readFrom, sameDatabase } from '../db/tiers.ts'
import type { Queryable } from '../db/types.ts'
import { invalid, notFound } from '../errors.ts'
import { enqueue, envelopeFor } from '../jobs/enqueue.ts'
import type { JobPayload } from '../jobs/specs.ts'
import { applyEvents, EVENT_TYPES, isDataError, type AnalyticsEvent, type EventType } from '../tiers/analytics/events.ts'
import {
  claimOverdueRefresh,
  getRefreshState,
  markClean,
  recordRefresh,
  refreshDirty,
  tenantRefreshState,
} from '../tiers/analytics/refresh.ts'
import { noCounts, stepTotals, totals, type Counts, type DayRange } from '../tiers/analytics/views.ts'
import { campaignExists, listSequenceSteps } from '../tiers/oltp/campaigns.ts'
import { emailAccountExists } from '../tiers/oltp/email-accounts.ts'
import { oldestOutboxRow } from '../tiers/oltp/outbox.ts'
import { pendingByTenant, pendingSince, sendEvents } from '../tiers/queue/pending-events.ts'
import { oldestPending } from '../tiers/queue/pgmq.ts'
import { QUEUES } from '../tiers/queue/queues.ts'

/**
 * Ids of the events the server derives from a stored message: `<message id>:<type>`. A redelivered
 * job derives the same id, so it changes nothing. Clients may not send ids of this form
 * (isServerEventId): the second event in under one id is dropped as a duplicate, so a client id
 * equal to a server one would suppress the server's event or be suppressed by it.
 */
const serverEventId = (messageId: string, type: EventType) => `${messageId}:${type}`
const SERVER_EVENT_ID = new RegExp(`^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}:(${EVENT_TYPES.join('|')})$`, 'i')
export const isServerEventId = (eventId: string) => SERVER_EVENT_ID.test(eventId)

/** The one id a message's `sent` event has, whoever reports it. */
export const sentEventId = (messageId: string) => serverEventId(messageId, 'sent')

/** How long a scheduled refresh may stay unrun before it counts as lost. */
const rescheduleAfterSeconds = (debounceSeconds: number) => Math.max(10, debounceSeconds * 5)

/*
 * Exactly once, with old events pruned. apply_events counts an event once because a second copy
 * collides with the first one's row on (tenant_id, event_id); once that row is pruned, nothing
 * would stop a copy from counting again. So events are pruned only below a horizon under which
 * no copy can be applied any more:
 *  - The API refuses events that occurred more than EVENT_MAX_AGE_DAYS ago (src/services/events.ts).
 *  - The events the server records itself (recordMessageCreated: `sent`, and what an inbound
 *    message carries: a reply, auto-reply, bounce, complaint or delivery report) occur at the
 *    ref's `created`, which the write path sets when it stores the message. The legacy migration keeps old dates on refs but records no
 *    events (historical counts are listed as not built); if it ever does, it must write rollups
 *    directly, or its events older than the horizon are refused here.
 *  - A copy can still arrive late: a queue backlog, a worker killed before its archive, a chunk
 *    requeued from the dead letters weeks later. So the workers refuse, in recordEvents below,
 *    any event older than the horizon, EVENT_MAX_AGE_DAYS + EVENT_RETENTION_MARGIN_DAYS: an event
 *    accepted at the API's limit may wait the margin before it is applied. A refused event goes
 *    the way of a value the database refuses: split off its chunk, two attempts, dead-lettered.
 *  - The prune (src/services/prune.ts) deletes events older than the horizon minus one more hour
 *    for clocks that disagree between processes. A pruned event occurred before p - H - 1h (p:
 *    the pruner's clock); any later apply at t >= p refuses what occurred before t - H. So no
 *    copy of a pruned event is ever applied: it is refused, not counted twice.
 * The price: an accepted event applied more than the margin after it reached the API's limit is
 * refused too (a dead letter), rather than risk counting it twice.
 * Rollups are never pruned; message_firsts neither: an open of a two-year-old message occurs
 * today, within every window, and without its message's first open on record it would count as
 * unique a second time. message_firsts holds at most three rows per message (first open, click
 * and reply), so it grows with messages, not with events.
 */

const DAY_MS = 86_400_000

/** Events that occurred before this are refused by the workers; the prune deletes them (an hour later). */
export const eventHorizon = (deps: Deps) =>
  new Date(deps.clock.now() - (deps.config.EVENT_MAX_AGE_DAYS + deps.config.EVENT_RETENTION_MARGIN_DAYS) * DAY_MS)

const pastHorizon = (horizon: Date) => (e: AnalyticsEvent) => Date.parse(e.occurred_at) < horizon.getTime()

/** Events the workers refuse: a copy of them may already be pruned (see above). Treated like a value the database refuses. */
export class PastHorizonError extends Error {
  override name = 'PastHorizonError'
}

/**
 * Applies events to the analytics tier (one transaction: facts and rollups together), then, if
 * the views just went stale, schedules their refresh after the debounce. A crash between the two
 * leaves a refresh unscheduled; scheduleOverdueRefresh catches that. A batch holding an event
 * older than the horizon is refused whole (PastHorizonError, see above).
 */
export async function recordEvents(deps: Deps, events: readonly AnalyticsEvent[]): Promise<number> {
  const horizon = eventHorizon(deps)
  const refused = events.filter(pastHorizon(horizon)).length
  if (refused > 0) {
    throw new PastHorizonError(`${refused} event(s) occurred before the pruning horizon ${horizon.toISOString()}; not applied, a copy may be pruned`)
  }
  const debounce = deps.config.ANALYTICS_REFRESH_DEBOUNCE_S
  const { applied, schedule } = await applyEvents(deps.tiers.analytics, events, rescheduleAfterSeconds(debounce))
  if (schedule) await enqueue(deps.tiers.queue, 'analytics.refresh', {}, debounce)
  return applied
}

/**
 * Applies a chunk of events the API accepted. One value the database refuses fails the whole
 * statement, and must not take the chunk's good events down with it (they were acknowledged):
 * on a data error the chunk is halved until each bad event stands alone, every good part is
 * applied, and each bad event is sent again as its own events.apply job, to be retried and
 * dead-lettered alone, keeping its acceptance time for its tenant's as_of. Any other failure
 * (deadlock, lost connection) throws, so the queue retries the whole chunk. A redelivery applies
 * nothing twice; at worst it sends a bad event alone once more.
 */
export async function applyEventChunk(deps: Deps, chunk: JobPayload<'events.apply'>): Promise<void> {
  if (chunk.events.length === 1) {
    await recordEvents(deps, chunk.events)
    return
  }
  // Events past the horizon are refused before the database is asked, like a value it refuses.
  const bad = chunk.events.filter(pastHorizon(eventHorizon(deps)))
  const rest = chunk.events.filter((e) => !bad.includes(e))
  if (rest.length > 0) await applyIsolating(deps, rest, bad)
  if (bad.length === 0) return
  deps.log.warn({ event_ids: bad.map((e) => e.event_id) }, 'events the analytics tier refused were split off their chunk')
  const { accepted_at } = chunk
  await sendEvents(
    deps.tiers.queue,
    bad.map((e) => ({
      // A refused value is refused again: two attempts (one for a transient fault on the first)
      // dead-letter it in seconds instead of holding its tenant's as_of back for ten retries.
      message: envelopeFor('events.apply', { events: [e], accepted_at }, { max_attempts: 2 }).envelope,
      headers: { tenant_id: e.tenant_id, ...(accepted_at ? { accepted_at } : {}) },
    })),
  )
}

async function applyIsolating(deps: Deps, events: readonly AnalyticsEvent[], bad: AnalyticsEvent[]): Promise<void> {
  try {
    await recordEvents(deps, events)
  } catch (err) {
    if (!isDataError(err) && !(err instanceof PastHorizonError)) throw err
    if (events.length === 1) {
      bad.push(events[0]!)
      return
    }
    const half = Math.ceil(events.length / 2)
    await applyIsolating(deps, events.slice(0, half), bad)
    await applyIsolating(deps, events.slice(half), bad)
  }
}

const eventDetail = ({ reason, status, recipient, recipients, feedback_type }: NonNullable<JobPayload<'message.created'>['event']>) =>
  Object.fromEntries(Object.entries({ reason, status, recipient, recipients, feedback_type }).filter(([, v]) => v !== undefined && v !== null))

/**
 * A stored message as facts: an outbound message is `sent`; an inbound reply, auto-reply,
 * bounce, complaint or success report is `replied`, `auto_replied`, `bounced`, `complained` or
 * `delivered` on the outbound message it answers.
 */
export function recordMessageCreated(deps: Deps, p: JobPayload<'message.created'>): Promise<number> {
  const events: AnalyticsEvent[] = []
  const e = p.event
  if (e) {
    events.push({
      tenant_id: p.tenant_id,
      event_id: serverEventId(p.message_id, e.type),
      message_id: e.message_id,
      type: e.type,
      bounce_type: e.bounce_type,
      occurred_at: p.occurred_at,
      email_account_id: e.email_account_id,
      campaign_id: e.campaign_id,
      sequence_step_id: e.sequence_step_id,
      // Why it bounced (reason, status, recipient) or who complained (feedback_type), when the payload says.
      metadata: { inbound_message_id: p.message_id, ...eventDetail(e) },
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

/*
 * as_of, per tenant: every event accepted for the tenant before as_of is in the views (or was
 * dead-lettered, and never will be).
 *
 * Why that holds. An accepted event is (1) waiting, in the events queue (or the OLTP outbox when
 * the queue is another database); then (2) applied: its rollups and their rows in dirty_keys
 * commit together, before its queue message is archived; then (3) in the views: the refresh
 * recomputes the rows and deletes their keys in one transaction. (Or (4) dead-lettered.)
 *  - The watermark of tenant T is read first: when T's oldest waiting event was accepted, or the
 *    queue's now if none waits. Any event of T accepted before it was no longer waiting at that
 *    read, so it had reached (2) or later.
 *  - Then, if T has no dirty keys, all of T's applied events are in the views: as_of = watermark.
 *  - If T has dirty keys, as_of is what the last refresh that covered T recorded: the watermark
 *    it read before its own snapshot, so it is true of the rows it wrote, and refreshes only add.
 * Only T's own waiting events enter T's watermark, so another tenant's backlog or stuck event
 * does not hold T back; that includes T's rows in the outbox (each names its tenant), which the
 * refresh itself reads as a whole. One gap, during a deploy only: a row written by a process of
 * the release before the outbox named tenants (sql/oltp/0017) names none, and holds back the
 * refresh's as_of but no tenant's own watermark until the relay moves it, within milliseconds.
 */

/** The earliest of the dates given, ignoring nulls. */
const earliest = (...dates: (Date | null | undefined)[]) =>
  new Date(Math.min(...dates.filter((d): d is Date => d instanceof Date).map((d) => d.getTime())))

/** The oldest outbox row, the tenant's or (no tenant) anyone's; none when OLTP and queue are one database. */
const outboxOldest = (deps: Deps, tenantId?: string) =>
  sameDatabase(deps.tiers.oltp, deps.tiers.queue) ? undefined : oldestOutboxRow(deps.tiers.oltp, tenantId)

/** The watermark over the waiting events given: one tenant's, or (for monitoring, no tenant) every tenant's. */
async function watermark(deps: Deps, waiting: Promise<{ now: Date; oldest: Date | null }>, tenantId?: string): Promise<Date> {
  const [queue, outbox] = await Promise.all([waiting, outboxOldest(deps, tenantId)])
  return earliest(queue.now, queue.oldest, outbox)
}

/**
 * Brings the views up to date with the rollups, recomputing only the rows that changed. The
 * watermarks are read first and the schedule cleared before the refresh takes its snapshot (see
 * above). A failure throws, so the queue retries it and the failure shows in job_logs.
 */
export async function refreshViews(deps: Deps): Promise<{ asOf: Date; ms: number; rows: number }> {
  const [queue, outbox] = await Promise.all([pendingByTenant(deps.tiers.queue), outboxOldest(deps)])
  const idle = earliest(queue.now, outbox)
  const asOf = earliest(idle, ...queue.oldest.values())
  await markClean(deps.tiers.analytics)
  const t0 = performance.now()
  const rows = await refreshDirty(deps.tiers.analytics, idle, queue.oldest)
  const ms = Math.round(performance.now() - t0)
  await recordRefresh(deps.tiers.analytics, asOf, ms)
  return { asOf, ms, rows }
}

/** The safety net the workers run periodically: a dirty view never waits on a lost refresh job. */
export async function scheduleOverdueRefresh(deps: Deps): Promise<boolean> {
  const after = rescheduleAfterSeconds(deps.config.ANALYTICS_REFRESH_DEBOUNCE_S)
  if (!(await claimOverdueRefresh(deps.tiers.analytics, after))) return false
  await enqueue(deps.tiers.queue, 'analytics.refresh', {})
  return true
}

/**
 * A tenant's as_of (null: its changes were never refreshed yet), as read from `db` (the analytics
 * primary, or a replica staleS seconds behind it at most: then no later than that far back).
 */
async function tenantAsOf(deps: Deps, tenantId: string, { db, staleS }: { db: Queryable; staleS: number }): Promise<Date | null> {
  const w = await watermark(deps, pendingSince(deps.tiers.queue, tenantId), tenantId)
  const state = await tenantRefreshState(db, tenantId)
  const asOf = state.dirty ? state.as_of : w
  if (!asOf || staleS === 0) return asOf
  return new Date(Math.min(asOf.getTime(), deps.clock.now() - staleS * 1000))
}

/** Seconds since as_of on the process clock; null before the first refresh. */
const freshnessSeconds = (deps: Deps, asOf: Date | null) => (asOf ? Math.max(0, (deps.clock.now() - asOf.getTime()) / 1000) : null)

/** The refresh's own figures across every tenant, for monitoring. */
export async function refreshStatus(deps: Deps) {
  const w = await watermark(deps, oldestPending(deps.tiers.queue, QUEUES.events))
  const state = await getRefreshState(deps.tiers.analytics)
  const asOf = state.dirty ? state.as_of : w
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

export async function campaignReport(deps: Deps, tenantId: string, campaignId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  const from = readFrom(deps.tiers, 'analytics')
  const asOf = await tenantAsOf(deps, tenantId, from)
  return { campaign_id: campaignId, ...report(deps, await totals(from.db, 'campaign', tenantId, campaignId, r), asOf) }
}

/** One report per sequence step of the campaign, in step order (steps without events count zero). */
export async function stepReports(deps: Deps, tenantId: string, campaignId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  const from = readFrom(deps.tiers, 'analytics')
  const asOf = await tenantAsOf(deps, tenantId, from)
  const [steps, byStep] = await Promise.all([
    listSequenceSteps(deps.tiers.oltp, tenantId, campaignId),
    stepTotals(from.db, tenantId, campaignId, r),
  ])
  const data = steps.map((s) => ({ sequence_step_id: s.id, step_number: s.step_number, ...report(deps, byStep.get(s.id) ?? noCounts(), asOf) }))
  return { data, as_of: asOf?.toISOString() ?? null }
}

export async function mailboxReport(deps: Deps, tenantId: string, emailAccountId: string, range: DayRangeInput) {
  const r = dayRange(range)
  if (!(await emailAccountExists(deps.tiers.oltp, tenantId, emailAccountId))) throw notFound('email account')
  const from = readFrom(deps.tiers, 'analytics')
  const asOf = await tenantAsOf(deps, tenantId, from)
  return { email_account_id: emailAccountId, ...report(deps, await totals(from.db, 'mailbox', tenantId, emailAccountId, r), asOf) }
}
