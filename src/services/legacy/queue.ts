/**
 * `legacy migrate --via-queue`: the batches as `legacy.batch` jobs, run by however many worker
 * processes there are. The command records the run (its mapping and the source's label), plans
 * key ranges from the end of the batches already committed without a gap, and enqueues one job
 * per range: { run, batch_no, after, last }. A worker reads the range from the source named by
 * its own LEGACY_SOURCE_URL (no address or password travels in a queue message; the run's label
 * must match, so a worker pointed at another database refuses) and runs the same batch code as
 * `migrate`. A batch number already committed is skipped: redeliveries and a re-run of the
 * command change nothing, given the same --batch.
 */
import type { Deps } from '../../deps.ts'
import { AppError, invalid } from '../../errors.ts'
import { enqueue } from '../../jobs/enqueue.ts'
import type { JobPayload } from '../../jobs/specs.ts'
import type { Mapping } from '../../legacy/mapping.ts'
import { checkMapping, LegacyReader, openSource, sourceLabel } from '../../legacy/source.ts'
import { sleep } from '../../runtime.ts'
import { getLegacyRun, insertLegacyBatch, insertLegacyRun, listLegacyBatches } from '../../tiers/oltp/legacy.ts'
import { batchHistory } from './history.ts'
import { legacyHistoryBatches } from '../../tiers/analytics/legacy-history.ts'
import { dateBatch, migrateBatch } from './batch.ts'
import { runExists, type MigrateOptions } from './migrate.ts'

export interface QueuedPlan {
  run: string
  /** Batch numbers the run needs, committed or not. */
  batches: number[]
  enqueued: number
}

/** Plans the run's remaining ranges and enqueues a job for each batch not committed yet. */
export async function enqueueLegacyBatches(deps: Deps, o: Pick<MigrateOptions, 'reader' | 'run' | 'source' | 'tenant' | 'batchSize'>): Promise<QueuedPlan> {
  const { oltp, queue } = deps.tiers
  const mapping = o.reader.mapping
  if (!mapping.tenant_column && !o.tenant) throw invalid('the mapping has no tenant_column (a single-tenant source): name the tenant with --tenant', 'tenant', 'required')
  // Workers read the mapping from the run, so it is recorded before any job exists.
  if (!(await runExists(deps, { ...o, rate: 0 }, mapping))) await insertLegacyRun(oltp, { name: o.run, source: o.source, mapping, tenant_id: o.tenant })
  const done = await listLegacyBatches(oltp, o.run)
  const committed = new Set(done.map((b) => b.batch_no))
  // The ranges restart after the last batch with none missing before it, as the first plan made them.
  let prefix = 0
  while (committed.has(prefix + 1)) prefix++
  let after = prefix ? done.find((b) => b.batch_no === prefix)!.last_key : null
  const plan: QueuedPlan = { run: o.run, batches: [], enqueued: 0 }
  for (let no = prefix + 1; ; no++) {
    const last = await o.reader.keyAfter(after, o.batchSize)
    if (last === null) break
    plan.batches.push(no)
    if (!committed.has(no)) {
      await enqueue(queue, 'legacy.batch', { run: o.run, batch_no: no, after, last })
      plan.enqueued++
    }
    after = last
  }
  return plan
}

/** Waits until every planned batch is committed; the callback sees how many are. */
export async function waitForBatches(deps: Deps, plan: QueuedPlan, { pollMs = 1000, onProgress }: { pollMs?: number; onProgress?: (done: number) => void } = {}): Promise<void> {
  const wanted = new Set(plan.batches)
  for (;;) {
    const done = (await listLegacyBatches(deps.tiers.oltp, plan.run)).filter((b) => wanted.has(b.batch_no)).length
    onProgress?.(done)
    if (done === wanted.size) return
    await sleep(pollMs)
  }
}

/** The worker's side: one batch, from the source this worker's environment names. */
export async function runQueuedBatch(deps: Deps, job: JobPayload<'legacy.batch'>): Promise<void> {
  const { oltp } = deps.tiers
  const done = (await listLegacyBatches(oltp, job.run)).find((b) => b.batch_no === job.batch_no)
  // Committed already (a redelivery); a worker that died before dating it left that step.
  if (done) {
    // A redelivery after the OLTP commit: finish what the first delivery may not have.
    if (!done.dated) await dateBatch(deps, job.run, job.batch_no)
    if (!(await legacyHistoryBatches(deps.tiers.analytics, job.run)).has(job.batch_no)) await batchHistory(deps, job.run, job.batch_no)
    return
  }
  const run = await getLegacyRun(oltp, job.run)
  if (!run) throw new AppError('not_found', `legacy run ${job.run} does not exist (rolled back?)`)
  const url = deps.config.LEGACY_SOURCE_URL
  if (!url) throw new AppError('service_unavailable', 'LEGACY_SOURCE_URL is not set in this worker: legacy.batch jobs read the legacy database it names')
  const mapping = run.mapping as Mapping
  if (sourceLabel(url, mapping.table) !== run.source) {
    throw new AppError('conflict', `this worker's LEGACY_SOURCE_URL is ${sourceLabel(url, mapping.table)}, but run ${run.name} reads ${run.source}`)
  }
  const source = await openSource(url)
  try {
    const reader = new LegacyReader(source, mapping, await checkMapping(source, mapping), mapping.tenant_column ? run.tenant_id : null)
    const rows = await reader.range(job.after, job.last)
    const o = { reader, run: run.name, source: run.source, tenant: run.tenant_id }
    // Rows deleted since the plan leave an empty range: recorded as done all the same.
    if (rows.length === 0) await insertLegacyBatch(oltp, { run: run.name, batch_no: job.batch_no, first_key: job.last, last_key: job.last, rows: 0, expired: 0 })
    else await migrateBatch(deps, o, rows, job.batch_no, false)
  } finally {
    await source.close()
  }
}
