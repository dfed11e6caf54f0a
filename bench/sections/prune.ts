/**
 * Bounded growth on PostgreSQL: a churn of jobs (send, read, complete: one job_logs row and one
 * pgmq archive row each) and one analytics event per job, through a retention window of seconds,
 * while maintenance.prune's batches run beside the writers as its chained jobs would. Sampled
 * through the run: write throughput and the three tables' rows and bytes, which should stay flat
 * once the first window has filled. The baseline is what the tables would hold without the prune
 * (everything written), and the first window's throughput.
 * In full mode also: job_logs pruned by batched DELETE against native range partitions dropped
 * whole, and what partitioning costs every insert (the choice the README reports).
 */
import { loadConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { pruneBatch } from '../../src/services/prune.ts'
import { refreshViews } from '../../src/services/analytics.ts'
import { buildDeps } from '../../src/system.ts'
import { applyEvents, type AnalyticsEvent } from '../../src/tiers/analytics/events.ts'
import { completeJobs } from '../../src/tiers/queue/job-logs.ts'
import { read, sendBatch } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import type { Db } from '../../src/db/types.ts'
import { benchDatabase, serverVersion } from '../lib/pg.ts'
import { median, percentile, round } from '../lib/stats.ts'
import type { Row, Section } from '../lib/report.ts'
import { partitionComparison } from '../lib/partitions.ts'

const DAY_MS = 86_400_000
const BATCH = 100
const TABLES = { job_logs: 'queue.job_logs', archive: `pgmq.a_${QUEUES.jobs}`, events: 'analytics.events' } as const
type Table = keyof typeof TABLES

interface Sample {
  at_s: number
  jobs_per_s: number
  rows: Record<Table, number>
  mb: Record<Table, number>
}

async function measure(db: Db): Promise<Pick<Sample, 'rows' | 'mb'>> {
  const rows = {} as Record<Table, number>
  const mb = {} as Record<Table, number>
  for (const [name, table] of Object.entries(TABLES) as [Table, string][]) {
    const [r] = await db.query<{ n: string; bytes: string }>(`SELECT (SELECT count(*) FROM ${table}) AS n, pg_total_relation_size('${table}') AS bytes`)
    rows[name] = Number(r!.n)
    mb[name] = round(Number(r!.bytes) / 2 ** 20, 1)
  }
  return { rows, mb }
}

/** One writer: jobs through the queue as the runtime settles them, and an event per job. */
async function writer(deps: Deps, done: { n: number }, total: number, windowS: number) {
  const { queue, analytics } = deps.tiers
  // Events that occurred just inside the events' pruning horizon: they leave it after one window.
  const horizonMs = (deps.config.EVENT_MAX_AGE_DAYS + deps.config.EVENT_RETENTION_MARGIN_DAYS) * DAY_MS + 3_600_000
  const tenant = crypto.randomUUID()
  const account = crypto.randomUUID()
  while (done.n < total) {
    await sendBatch(queue, QUEUES.jobs, Array.from({ length: BATCH }, (_, i) => ({ job: 'bench.churn', payload: { i } })))
    const msgs = await read(queue, QUEUES.jobs, 30, BATCH)
    const now = new Date()
    const logs = msgs.map((m) => ({ msg_id: m.msg_id, job: 'bench.churn', attempt: m.read_ct, outcome: 'succeeded' as const, error: null, duration_ms: 0, started_at: now }))
    await completeJobs(queue, QUEUES.jobs, 'bench', msgs.map((m) => m.msg_id), logs)
    const occurred = new Date(Date.now() - horizonMs + windowS * 1000).toISOString()
    const events: AnalyticsEvent[] = msgs.map((m) => ({
      tenant_id: tenant,
      event_id: `e${m.msg_id}`,
      message_id: crypto.randomUUID(),
      type: 'delivered',
      bounce_type: null,
      occurred_at: occurred,
      email_account_id: account,
      campaign_id: null,
      sequence_step_id: null,
      metadata: null,
    }))
    await applyEvents(analytics, events, 10)
    done.n += msgs.length
  }
}

/** The prune as its chained jobs run it, every `everyMs`, and the analytics refresh the workers schedule. */
async function pruner(deps: Deps, running: () => boolean, everyMs: number, batchMs: number[], deleted: { n: number }) {
  while (running()) {
    let resume: Record<string, string> | undefined
    do {
      const t0 = performance.now()
      const run = await pruneBatch(deps, { batch_size: 5_000, resume })
      batchMs.push(performance.now() - t0)
      deleted.n += Object.values(run.deleted).reduce((a, b) => a + b, 0)
      resume = Object.keys(run.resume).length ? run.resume : undefined
    } while (resume)
    await refreshViews(deps)
    await Bun.sleep(everyMs)
  }
}

export async function benchPrune({ quick = false } = {}): Promise<Section> {
  const s = quick ? { jobs: 40_000, windowS: 1.5, sampleS: 1, writers: 2 } : { jobs: 2_000_000, windowS: 60, sampleS: 15, writers: 4 }
  const bench = await benchDatabase('edp_bench_prune', 20)
  const days = String(s.windowS / 86_400)
  const config = loadConfig({ LOG_LEVEL: 'silent', JOB_LOG_RETENTION_DAYS: days, QUEUE_ARCHIVE_RETENTION_DAYS: days })
  const deps = buildDeps(bench.tiers, { config })
  const samples: Sample[] = []
  const batchMs: number[] = []
  const done = { n: 0 }
  const deleted = { n: 0 }
  try {
    const start = performance.now()
    const writers = Promise.all(Array.from({ length: s.writers }, () => writer(deps, done, s.jobs, s.windowS)))
    let finished = false
    void writers.finally(() => (finished = true))
    const pruning = pruner(deps, () => !finished, Math.min(1_000, (s.windowS * 1000) / 4), batchMs, deleted)
    let last = { at: start, n: 0 }
    while (!finished) {
      await Promise.race([Bun.sleep(s.sampleS * 1000), writers])
      const at = performance.now()
      const n = done.n
      // Autovacuum would do this once a fifth of a table is dead; here, where a sample lasts seconds, each sample does.
      for (const table of Object.values(TABLES)) await bench.db.exec(`VACUUM ${table}`)
      samples.push({ at_s: round((at - start) / 1000, 1), jobs_per_s: Math.round((n - last.n) / ((at - last.at) / 1000)), ...(await measure(bench.db)) })
      last = { at: performance.now(), n: done.n }
    }
    await writers
    await pruning
    const seconds = (performance.now() - start) / 1000

    // Flat: the largest size after the first two windows against the size at the end of them.
    const settled = samples.filter((x) => x.at_s >= 2 * s.windowS)
    const steady = settled.length ? settled : samples
    const full = steady.slice(1).length ? steady.slice(1) : steady
    const early = samples.slice(0, Math.max(1, Math.ceil(samples.length / 4)))
    const late = samples.slice(-Math.max(1, Math.ceil(samples.length / 4)))
    const meanRate = (xs: Sample[]) => Math.round(xs.reduce((a, x) => a + x.jobs_per_s, 0) / xs.length)
    const rows: Row[] = (Object.keys(TABLES) as Table[]).map((t) => {
      const held = full.map((x) => x.rows[t])
      const mbs = full.map((x) => x.mb[t])
      // Rows held against one window of writes at the rate just sampled: flat means about 1, however long the churn.
      const windows = full.map((x) => x.rows[t] / Math.max(1, x.jobs_per_s * s.windowS))
      const first = samples[0]!
      const unprunedMb = Math.round((first.mb[t] / Math.max(1, first.rows[t])) * s.jobs)
      return {
        benchmark: 'bounded growth',
        case: `${TABLES[t]}: ${s.jobs.toLocaleString('en')} jobs (and as many events) through a ${s.windowS} s retention window`,
        ours: `${Math.min(...held).toLocaleString('en')}-${Math.max(...held).toLocaleString('en')} rows (${round(Math.min(...windows), 2)}-${round(Math.max(...windows), 2)} windows of writes), ${Math.min(...mbs)}-${Math.max(...mbs)} MB`,
        baseline: `${s.jobs.toLocaleString('en')} rows, about ${unprunedMb} MB, without pruning`,
        ratio: round(s.jobs / Math.max(1, ...held), 1),
        note: `after the first windows; end: ${full.at(-1)!.rows[t].toLocaleString('en')} rows, ${full.at(-1)!.mb[t]} MB`,
      }
    })
    rows.push({
      benchmark: 'bounded growth',
      case: `write throughput while pruning, last quarter of ${round(seconds, 0)} s vs first quarter (before anything was due)`,
      ours: `${meanRate(late).toLocaleString('en')} jobs/s`,
      baseline: `${meanRate(early).toLocaleString('en')} jobs/s`,
      ratio: round(meanRate(late) / meanRate(early), 2),
      note: `${s.writers} writers; each job: send, read, complete (job_logs + archive), one event applied`,
    })
    rows.push({
      benchmark: 'bounded growth',
      case: `prune jobs (each one statement per table, at most 5,000 rows each), ${deleted.n.toLocaleString('en')} rows deleted`,
      ours: `p50 ${round(median(batchMs), 1)} ms, p99 ${round(percentile(batchMs, 99), 1)} ms, max ${round(Math.max(...batchMs), 1)} ms`,
      baseline: '–',
      ratio: null,
      note: `${batchMs.length} jobs' batches; a statement never takes longer than its job`,
    })
    const partitions = quick ? undefined : await partitionComparison(bench.db)
    if (partitions) rows.push(...partitions.rows)
    return {
      name: 'prune',
      rows,
      data: { postgres: await serverVersion(bench.db), settings: s, seconds: round(seconds, 1), samples, batches: batchMs.length, deleted: deleted.n, partitions: partitions?.data },
    }
  } finally {
    await bench.dispose()
  }
}
