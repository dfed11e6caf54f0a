/**
 * Queue benchmark on PostgreSQL: the worker runtime (no-op handler) against a raw pgmq
 * read(batch) + archive loop at the same concurrency and batch size, in one run; and the pickup
 * latency of a single message on an idle worker (send → handler start).
 */
import { z } from 'zod'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { archive, read, send, sendBatch } from '../../src/tiers/queue/pgmq.ts'
import { completeJobs } from '../../src/tiers/queue/job-logs.ts'
import type { Tiers } from '../../src/db/tiers.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'
import { benchDatabase, benchDeps, serverVersion } from '../lib/pg.ts'
import { median, percentile, round } from '../lib/stats.ts'
import type { Row, Section } from '../lib/report.ts'

const QUEUE = QUEUES.jobs

async function fill(tiers: Tiers, n: number) {
  for (let i = 0; i < n; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ job: 'bench.noop', payload: { i: i + j } }))
    await sendBatch(tiers.queue, QUEUE, chunk)
  }
  await tiers.queue.exec(`TRUNCATE pgmq.a_${QUEUE}`)
  await tiers.queue.exec(`VACUUM ANALYZE pgmq.q_${QUEUE}`) // not in a transaction: its own statement
}

/**
 * The hand-written baseline: read a batch, archive it. With withLogs it also records one
 * job_logs row per message through the same call the runtime uses, which isolates what the
 * runtime itself costs from what the logging requirement costs.
 */
async function rawLoop(tiers: Tiers, concurrency: number, batch: number, withLogs = false): Promise<number> {
  let done = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const msgs = await read(tiers.queue, QUEUE, 30, batch)
        if (msgs.length === 0) return
        const ids = msgs.map((m) => m.msg_id)
        if (!withLogs) await archive(tiers.queue, QUEUE, ids)
        else {
          const now = new Date()
          const logs = msgs.map((m) => ({ msg_id: m.msg_id, job: 'bench.noop', attempt: m.read_ct, outcome: 'succeeded' as const, error: null, duration_ms: 0, started_at: now }))
          await completeJobs(tiers.queue, QUEUE, 'raw', ids, logs)
        }
        done += msgs.length
      }
    }),
  )
  return done
}

async function runtime(tiers: Tiers, jobs: ReturnType<typeof jobMap>, concurrency: number, batch: number, n: number) {
  const deps = benchDeps(tiers)
  const worker = new Worker(deps, {
    queues: [QUEUE],
    jobs,
    batchSize: batch,
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    pollIntervalMs: 50,
  })
  await worker.start()
  while (worker.counters()[QUEUE]!.succeeded < n) await Bun.sleep(5)
  await worker.stop()
}

async function timed(fn: () => Promise<unknown>) {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

export async function benchQueue({ quick = false } = {}): Promise<Section> {
  const bench = await benchDatabase('edp_bench_queue', 20)
  const { tiers } = bench
  let pinged: ((at: number) => void) | undefined
  const noop: JobDefinition = { name: 'bench.noop', queue: QUEUE, schema: z.object({ i: z.number() }), maxAttempts: 3, handler: async () => {} }
  const ping: JobDefinition = {
    name: 'bench.ping',
    queue: QUEUE,
    schema: z.object({}),
    maxAttempts: 3,
    handler: async () => pinged?.(performance.now()),
  }
  const jobs = jobMap([noop, ping])
  const settings = quick
    ? [{ concurrency: 2, batch: 50, n: 2_000 }]
    : [
        { concurrency: 1, batch: 50, n: 20_000 },
        { concurrency: 4, batch: 100, n: 60_000 },
      ]
  const rows: Row[] = []
  const throughput: Record<string, unknown>[] = []
  try {
    for (const s of settings) {
      // Alternate the two, several rounds, and compare medians: one round is at the mercy of noise.
      const rawRuns: number[] = []
      const loggedRuns: number[] = []
      const ourRuns: number[] = []
      for (let round = 0; round < (quick ? 1 : 5); round++) {
        await fill(tiers, s.n)
        rawRuns.push(s.n / (await timed(() => rawLoop(tiers, s.concurrency, s.batch))))
        await fill(tiers, s.n)
        loggedRuns.push(s.n / (await timed(() => rawLoop(tiers, s.concurrency, s.batch, true))))
        await fill(tiers, s.n)
        ourRuns.push(s.n / (await timed(() => runtime(tiers, jobs, s.concurrency, s.batch, s.n))))
      }
      const raw = median(rawRuns)
      const logged = median(loggedRuns)
      const ours = median(ourRuns)
      throughput.push({
        ...s,
        raw_jobs_per_s: round(raw, 0),
        raw_with_job_logs_jobs_per_s: round(logged, 0),
        runtime_jobs_per_s: round(ours, 0),
        ratio: round(ours / raw, 3),
        ratio_to_raw_with_job_logs: round(ours / logged, 3),
        raw_runs: rawRuns.map((x) => round(x, 0)),
        raw_with_job_logs_runs: loggedRuns.map((x) => round(x, 0)),
        runtime_runs: ourRuns.map((x) => round(x, 0)),
      })
      rows.push({
        benchmark: 'queue throughput',
        case: `${s.n} no-op jobs, ${s.concurrency} reader(s) × batch ${s.batch}, median of ${ourRuns.length}`,
        ours: `${Math.round(ours)} jobs/s`,
        baseline: `${Math.round(raw)} jobs/s (raw read+archive)`,
        ratio: ours / raw,
        note: `target ≥ 0.8x and ≥ 2,800 jobs/s; raw loop + job_logs: ${Math.round(logged)} jobs/s (ours ${(ours / logged).toFixed(2)}x)`,
      })
    }

    // Pickup latency: one message at a time on an idle worker woken by NOTIFY.
    await tiers.queue.exec(`TRUNCATE pgmq.q_${QUEUE}, pgmq.a_${QUEUE}`)
    const deps = benchDeps(tiers)
    const worker = new Worker(deps, { queues: [QUEUE], jobs, batchSize: 10, pollIntervalMs: 1_000 })
    await worker.start()
    const samples: number[] = []
    for (let i = 0; i < (quick ? 50 : 400); i++) {
      await Bun.sleep(5)
      const picked = new Promise<number>((resolve) => (pinged = resolve))
      const sentAt = performance.now()
      await send(tiers.queue, QUEUE, { job: 'bench.ping', payload: {} })
      samples.push((await picked) - sentAt)
    }
    await worker.stop()
    const latency = { samples: samples.length, p50_ms: round(median(samples), 2), p99_ms: round(percentile(samples, 99), 2) }
    rows.push({
      benchmark: 'queue pickup latency',
      case: `${samples.length} single messages, idle worker`,
      ours: `p50 ${latency.p50_ms} ms, p99 ${latency.p99_ms} ms`,
      baseline: 'poll interval 1,000 ms',
      ratio: null,
      note: 'target p50 < 10 ms',
    })
    return { name: 'queue', rows, data: { postgres: await serverVersion(bench.db), throughput, latency } }
  } finally {
    await bench.dispose()
  }
}
