/**
 * History in analytics for legacy-migrated messages: each batch's historical sent, replies,
 * auto-replies, bounces and unique replies land in rollup_daily on their own days.
 *
 * Not through analytics.events: apply_events refuses nothing by age, but the prune deletes events
 * by occurred_at, so a year-old event would be gone at the next prune, and a redone batch would
 * find nothing to collide with. Instead one analytics transaction per batch (a) undoes the deltas
 * the batch's marker (analytics.legacy_history) recorded, if any, (b) computes the deltas from the
 * batch's refs as they are now, read after the run's lock is held, (c) applies them and (d)
 * records them in the marker. Re-running it is a no-op in effect; a crash anywhere in it rolls all
 * of it back. It runs after the batch's OLTP commit: a crash between leaves a batch without a
 * marker, which the next migrate, follow cycle or queue job catches up (catchUpHistory).
 * Live traffic's as_of is untouched: nothing passes through the queue; the views' rows are marked
 * dirty, as an apply marks them, and the next refresh recomputes them.
 */
import { sameDatabase } from '../../db/tiers.ts'
import type { Queryable } from '../../db/types.ts'
import type { Deps } from '../../deps.ts'
import {
  addRollupDeltas,
  deleteLegacyHistory,
  earliestEvents,
  getLegacyHistory,
  legacyHistoryBatches,
  listLegacyHistory,
  lockFirsts,
  lockLegacyHistory,
  putLegacyHistory,
  subtractRollupDeltas,
  writeFirsts,
  type FirstSet,
  type HistoryDeltas,
  type RollupDelta,
} from '../../tiers/analytics/legacy-history.ts'
import { batchesAnsweringBatch, batchHistoryFacts, type HistoryFactRow } from '../../tiers/oltp/legacy-history.ts'
import { listLegacyBatches } from '../../tiers/oltp/legacy.ts'

/** Tests inject a crash inside the analytics transaction, after the rollups moved and before the marker. */
export interface HistoryFaults {
  insideHistory?: () => void | Promise<void>
}

/** The metrics a fact adds, as apply_events counts them. Legacy rows carry no bounce type or reason: hard, undetermined. */
function metricsOf(f: HistoryFactRow): string[] {
  if (f.direction === 'outbound') return ['sent']
  if (f.message_type === 'email') return ['replied']
  if (f.message_type === 'auto_reply') return ['auto_replied']
  if (f.message_type === 'bounce') return ['bounced', 'hard_bounced', 'bounced:undetermined']
  return []
}

type Dims = Pick<HistoryFactRow, 'tenant_id' | 'campaign_id' | 'sequence_step_id' | 'email_account_id'>

/** Adds n of a metric on a day to each dimension the message belongs to. */
function add(into: Map<string, RollupDelta>, d: Dims, at: string, metric: string, n: number) {
  const day = at.slice(0, 10)
  const dims = [
    ['campaign', d.campaign_id, d.campaign_id],
    ['step', d.sequence_step_id, d.campaign_id],
    ['mailbox', d.email_account_id, null],
  ] as const
  for (const [dimension, dimId, campaignId] of dims) {
    if (!dimId) continue
    const key = `${d.tenant_id}/${dimension}/${dimId}/${day}/${metric}`
    const row = into.get(key) ?? { tenant_id: d.tenant_id, dimension, dim_id: dimId, campaign_id: campaignId, day, metric, n: 0 }
    row.n += n
    into.set(key, row)
  }
}

const firstKey = (f: { tenant_id: string; message_id: string; type: string }) => `${f.tenant_id}/${f.message_id}/${f.type}`

/** Computes and applies a batch's deltas on the current firsts (already undone of the batch's old ones). */
async function applyFacts(tx: Queryable, facts: readonly HistoryFactRow[]): Promise<HistoryDeltas> {
  const rollups = new Map<string, RollupDelta>()
  const counted = facts.filter((f) => f.on_id)
  for (const f of counted) for (const metric of metricsOf(f)) add(rollups, f, f.at, metric, 1)
  // Unique replies as apply_events keeps them: the earliest reply of a message moves its first.
  const earliest = new Map<string, HistoryFactRow>()
  for (const f of counted.filter((x) => x.direction === 'inbound' && x.message_type === 'email')) {
    const k = firstKey({ tenant_id: f.tenant_id, message_id: f.on_id!, type: 'replied' })
    if (!earliest.has(k) || f.at < earliest.get(k)!.at) earliest.set(k, f)
  }
  const current = await lockFirsts(tx, [...earliest.values()].map((f) => ({ tenant_id: f.tenant_id, message_id: f.on_id!, type: 'replied' })))
  const firsts: FirstSet[] = []
  for (const [k, f] of earliest) {
    const prev = current.get(k) ?? null
    if (prev !== null && prev !== 'infinity' && prev <= f.at) continue
    add(rollups, f, f.at, 'unique_replied', 1)
    if (prev !== null && prev !== 'infinity') add(rollups, f, prev, 'unique_replied', -1)
    firsts.push({ tenant_id: f.tenant_id, message_id: f.on_id!, type: 'replied', prev, set: f.at })
  }
  const deltas = { rollups: [...rollups.values()].filter((r) => r.n !== 0), firsts }
  await writeFirsts(tx, firsts.map((s) => ({ ...s, at: s.set })))
  await addRollupDeltas(tx, deltas.rollups)
  return deltas
}

/**
 * Takes recorded deltas back out: the rollups subtracted, and each first the history set (unless
 * something since moved it) goes back to the earliest of what it was and the live events of the
 * message stored since: a live reply that came after the history counted no unique reply then,
 * so it counts one now, on its own day, as apply_events would have.
 */
async function undo(tx: Queryable, d: HistoryDeltas): Promise<void> {
  const current = await lockFirsts(tx, d.firsts)
  const mine = d.firsts.filter((s) => current.get(firstKey(s)) === s.set)
  const live = await earliestEvents(tx, mine)
  const moves = new Map<string, RollupDelta>()
  const restore = mine.map((s) => {
    const prev = s.prev === null || s.prev === 'infinity' ? null : s.prev
    const l = live.get(firstKey(s))
    const target = l && (prev === null || l.at < prev) ? l.at : prev
    if (l && target !== prev) {
      const dims = { tenant_id: s.tenant_id, ...l }
      add(moves, dims, target!, `unique_${s.type}`, 1)
      if (prev !== null) add(moves, dims, prev, `unique_${s.type}`, -1)
    }
    return { ...s, at: target ?? (s.prev === 'infinity' ? 'infinity' : null) }
  })
  await writeFirsts(tx, restore)
  await subtractRollupDeltas(tx, d.rollups)
  await addRollupDeltas(tx, [...moves.values()])
}

/** One batch's history brought in line with its refs, in one analytics transaction (see the top). */
export async function syncBatchHistory(deps: Deps, run: string, batchNo: number, faults?: HistoryFaults): Promise<void> {
  const { oltp, analytics } = deps.tiers
  await analytics.transaction(async (tx) => {
    await lockLegacyHistory(tx, run)
    // Read after the lock: the last writer of a marker saw every OLTP commit made before it began.
    const facts = await batchHistoryFacts(sameDatabase(oltp, analytics) ? tx : oltp, run, batchNo)
    const old = await getLegacyHistory(tx, run, batchNo)
    if (old) await undo(tx, old)
    const deltas = await applyFacts(tx, facts)
    await faults?.insideHistory?.()
    await putLegacyHistory(tx, run, batchNo, deltas)
  })
}

/**
 * After a batch's refs commit: the batches holding answers it just gave a parent first, then the
 * batch itself, whose marker comes last, so a crash before it is caught up with its answers.
 */
export async function batchHistory(deps: Deps, run: string, batchNo: number, faults?: HistoryFaults): Promise<void> {
  for (const other of await batchesAnsweringBatch(deps.tiers.oltp, run, batchNo)) await syncBatchHistory(deps, run, other)
  await syncBatchHistory(deps, run, batchNo, faults)
}

/** Every committed batch of the run without a marker (its process died after the OLTP commit). Returns how many. */
export async function catchUpHistory(deps: Deps, run: string): Promise<number> {
  const done = await legacyHistoryBatches(deps.tiers.analytics, run)
  const missing = (await listLegacyBatches(deps.tiers.oltp, run)).filter((b) => !done.has(b.batch_no))
  for (const b of missing) await batchHistory(deps, run, b.batch_no)
  return missing.length
}

/**
 * Rollback: every marker's deltas (only the tenant's, when one is named) subtracted, one marker
 * per analytics transaction; a marker left empty is deleted. A marker already gone subtracts
 * nothing, so a rollback redone after a crash is exact. Runs before the refs are deleted: a crash
 * between leaves batches without markers, which a migrate would catch up, or a rollback re-run
 * finds nothing left to subtract.
 */
export async function rollbackHistory(deps: Deps, tenant: string | null): Promise<number> {
  const analytics = deps.tiers.analytics
  let undone = 0
  for (const m of await listLegacyHistory(analytics)) {
    await analytics.transaction(async (tx) => {
      await lockLegacyHistory(tx, m.run)
      const d = await getLegacyHistory(tx, m.run, m.batch_no)
      if (!d) return
      const mine = (x: { tenant_id: string }) => tenant === null || x.tenant_id === tenant
      await undo(tx, { rollups: d.rollups.filter(mine), firsts: d.firsts.filter(mine) })
      const rest = { rollups: d.rollups.filter((x) => !mine(x)), firsts: d.firsts.filter((x) => !mine(x)) }
      if (rest.rollups.length + rest.firsts.length === 0) await deleteLegacyHistory(tx, m.run, m.batch_no)
      else await putLegacyHistory(tx, m.run, m.batch_no, rest)
      undone++
    })
  }
  return undone
}
