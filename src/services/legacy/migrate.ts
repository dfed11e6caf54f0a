/**
 * `legacy migrate`: copies a legacy table into the content and OLTP tiers in keyset batches over
 * the legacy id, in the write path's order. A batch is (1) its bodies, headers and attachments in
 * one content transaction, then (2) its refs, id-map rows and checkpoint in one OLTP transaction,
 * then (3) its content dated back to the original dates, then (4) its historical counts in
 * analytics (history.ts). A crash before (2) commits leaves content the re-run finds and reuses
 * (or the orphan collector takes); after (2), the batch is done and the re-run resumes after it;
 * (3) and (4) are redone at the next start if they did not finish.
 */
import type { Deps } from '../../deps.ts'
import { conflict, invalid } from '../../errors.ts'
import { mappingKey, type Mapping } from '../../legacy/mapping.ts'
import { sleep } from '../../runtime.ts'
import { getLegacyRun, lastLegacyBatch, listLegacyBatches } from '../../tiers/oltp/legacy.ts'
import { dateBatch, finishBatch, prepareBatch, step, writeBatchContent, writeBatchRefs, type BatchOptions, type PreparedBatch } from './batch.ts'
import { catchUpHistory } from './history.ts'

export interface MigrateOptions extends BatchOptions {
  batchSize: number
  /** Messages per second at most; 0 runs unthrottled. */
  rate: number
  onBatch?: (p: { batch: number; done: number; total: number; expired: number }) => void
}

export interface MigrateSummary {
  run: string
  batches: number
  rows: number
  /** Of those, arrived with their retention already run out (bodies dropped by the next expiry run). */
  expired: number
  total_rows: number
  total_expired: number
  seconds: number
}

/**
 * Whether the run exists already; a resume must use the mapping and tenant it began with. A new
 * run is recorded with its first batch, so a migrate that fails before one commits leaves nothing.
 */
export async function runExists(deps: Deps, o: MigrateOptions, mapping: Mapping): Promise<boolean> {
  const run = await getLegacyRun(deps.tiers.oltp, o.run)
  if (!run) return false
  if (mappingKey(run.mapping as Mapping) !== mappingKey(mapping)) {
    throw conflict(`run ${o.run} started with a different mapping; roll it back first or name a new run with --run`, 'mapping')
  }
  if ((run.tenant_id ?? null) !== o.tenant) throw conflict(`run ${o.run} started with --tenant ${run.tenant_id ?? '(none)'}`, 'tenant')
  return true
}

async function dateUndatedBatches(deps: Deps, run: string) {
  for (const b of (await listLegacyBatches(deps.tiers.oltp, run)).filter((b) => !b.dated)) await dateBatch(deps, run, b.batch_no)
}

/**
 * The tables a migration grows, per tier. Their statistics are refreshed as they double: a plan
 * made while a table was empty stays cached on its connection until the next ANALYZE, and
 * autovacuum can lag far behind a bulk load. Measured on the 1M benchmark: no automatic analyze
 * in the first 65,000 migrated rows, every ref and content lookup by then a sequential scan, and
 * the rate down from 1,270 to 700 messages/s and falling.
 */
const GROWN: Record<'oltp' | 'content' | 'analytics', string> = {
  oltp: 'oltp.inbox_message_refs, oltp.legacy_ids, oltp.legacy_batches',
  content: 'content.content_objects, content.attachments, content.attachment_blobs',
  analytics: 'analytics.rollup_daily, analytics.message_firsts, analytics.legacy_history',
}

async function analyzeGrown(deps: Deps): Promise<void> {
  for (const tier of ['oltp', 'content', 'analytics'] as const) await deps.tiers[tier].exec(`ANALYZE ${GROWN[tier]}`)
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0

export async function migrateLegacy(deps: Deps, o: MigrateOptions): Promise<MigrateSummary> {
  const started = performance.now()
  if (!o.reader.mapping.tenant_column && !o.tenant) {
    throw invalid('the mapping has no tenant_column (a single-tenant source): name the tenant with --tenant', 'tenant', 'required')
  }
  let newRun = !(await runExists(deps, o, o.reader.mapping))
  await dateUndatedBatches(deps, o.run)
  await catchUpHistory(deps, o.run)
  const last = await lastLegacyBatch(deps.tiers.oltp, o.run)
  const committed = await listLegacyBatches(deps.tiers.oltp, o.run)
  if (last && committed.length !== last.batch_no) {
    // Queue workers commit batches out of order: resuming after the last would skip a gap.
    throw conflict(`run ${o.run} has batches missing below ${last.batch_no} (still queued, or failed): run migrate --via-queue again`, 'run')
  }
  const after = last?.last_key ?? null
  let batch = last?.batch_no ?? 0
  const total = await o.reader.countAfter(after)
  let rows = 0
  let expired = 0
  // Four stages overlap (src/services/legacy/batch.ts): batches N+3 and N+4 are read and prepared
  // (after the first) while N+2's content is written, N+1's refs commit and N is dated back and
  // counted in analytics. Content of a batch always commits before its refs, refs commit in batch
  // order, and a batch is finished only after its refs committed and the batch before it
  // finished. Reads follow one another (each starts after the last key of the one before);
  // preparing one overlaps reading the next.
  const readAfter = (key: string | null) => step(o.profile, 'read rows', () => o.reader.batchAfter(key, o.batchSize))
  let page = readAfter(after)
  const upcoming: Promise<PreparedBatch | null>[] = []
  const pull = () => {
    const rows = page
    page = rows.then((r) => (r.length ? readAfter(r.at(-1)!.legacy_id) : []))
    const prepared = rows.then((r) => (r.length ? prepareBatch(deps, o, r) : null))
    prepared.catch(() => {}) // observed when its turn comes
    upcoming.push(prepared)
  }
  // The first batch alone: a run that fails on its first rows makes nothing (not even a tenant's key).
  pull()
  let refs: Promise<void> = Promise.resolve()
  // The last batch's finish, and the one before it: one finish at most runs beside a refs commit.
  let finished: Promise<void> = Promise.resolve()
  let finishedBefore: Promise<void> = Promise.resolve()
  let issued = 0
  try {
    for (;;) {
      const b = await upcoming.shift()!
      if (!b) break
      while (upcoming.length < 2) pull()
      const content = await writeBatchContent(deps, o, b)
      await refs
      await finishedBefore
      const no = ++batch
      // This run's batches 1, 2, 4, 8, …: the tables have doubled since the last refresh, at most.
      if (isPowerOfTwo(no - (last?.batch_no ?? 0))) await analyzeGrown(deps)
      const first = newRun
      newRun = false
      refs = writeBatchRefs(deps, o, b, content, no, first, false).then((r) => {
        expired += r.expired
        rows += b.rows.length
        o.onBatch?.({ batch: no, done: rows, total, expired })
      })
      finishedBefore = finished
      finished = Promise.all([refs, finishedBefore]).then(() => finishBatch(deps, o, b, no))
      // Observed at a later await; without these a failure while the loop awaits another stage counts as unhandled.
      refs.catch(() => {})
      finished.catch(() => {})
      // The throttle: never ahead of `rate` messages a second since the start, so the live API keeps its share.
      issued += b.rows.length
      const ahead = o.rate > 0 ? (issued / o.rate) * 1000 - (performance.now() - started) : 0
      if (ahead > 0) await sleep(ahead)
    }
    await refs
    await finished
  } finally {
    // A failure leaves other stages running: the refs of the batch before commit (or fail) and
    // the finishes settle before this returns; the reads and preparations ahead settle unobserved.
    await refs.catch(() => {})
    await finished.catch(() => {})
    page.catch(() => {})
  }
  const batches = await listLegacyBatches(deps.tiers.oltp, o.run)
  return {
    run: o.run,
    batches: batches.length,
    rows,
    expired,
    total_rows: batches.reduce((n, b) => n + b.rows, 0),
    total_expired: batches.reduce((n, b) => n + b.expired, 0),
    seconds: (performance.now() - started) / 1000,
  }
}
