/**
 * The runtime as separate processes: a worker killed with SIGKILL mid-batch loses nothing and
 * applies nothing twice (its messages come back and the idempotent handler absorbs the repeat);
 * two workers racing on one queue never run a message twice within its visibility window;
 * SIGTERM finishes in-flight work and exits.
 *
 * On PostgreSQL the children share the test databases. PGlite cannot be shared between live
 * processes, so there the child runs on a data directory that the test opens after the kill.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine, migratedSnapshot } from '../support/databases.ts'
import { spawnChild } from '../support/child.ts'
import { eventually } from '../support/eventually.ts'
import { revealAll } from '../support/queues.ts'
import { createEffectTables, testJobs } from '../support/test-jobs.ts'
import { makeDeps, tierUrlEnv, useSystem } from '../support/system.ts'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { metrics, sendBatch } from '../../src/tiers/queue/pgmq.ts'

const sys = useSystem()
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const N = 60
const effect = (i: number, sleepMs: number) => ({ job: 'test.effect', payload: { key: `k${i}`, sleep_ms: sleepMs } })
const ran = (l: string) => l.startsWith('ran ')

/** Environment for a child worker: the PostgreSQL test databases, or a PGlite data directory. */
async function childEnv(dataDir?: string): Promise<Record<string, string>> {
  return dataDir ? { DATA_DIR: dataDir } : tierUrlEnv()
}

/** A PGlite data directory holding the migrated schema, for a child process to open. */
async function pgliteDataDir(): Promise<{ dataDir: string; open: () => Promise<Tiers> }> {
  const root = await mkdtemp(join(tmpdir(), 'edp-proc-'))
  dirs.push(root)
  const dataDir = join(root, 'pglite')
  const open = async () => {
    const db = pgliteDb(await openPglite({ dataDir }))
    return tiersFrom({ oltp: db, content: db, analytics: db, queue: db })
  }
  const seed = pgliteDb(await openPglite({ dataDir, loadDataDir: await migratedSnapshot() }))
  await seed.close()
  return { dataDir: root, open }
}

/** Runs what the dead worker left: its leased messages are made visible now instead of waiting out their timeout. */
async function drain(tiers: Tiers) {
  await revealAll(tiers, QUEUES.jobs)
  // The drainer skips the payloads' sleeps: what is checked is how often each key ran, not for how long.
  const worker = new Worker(makeDeps(tiers), { queues: [QUEUES.jobs], jobs: testJobs(undefined, { sleep: false }), batchSize: 50 })
  while ((await worker.runOnce(QUEUES.jobs)) > 0);
}

async function effects(tiers: Tiers) {
  const [e] = await tiers.queue.query<{ keys: string; distinct_keys: string; runs: string }>(
    `SELECT (SELECT count(*) FROM public.test_effects) AS keys,
            (SELECT count(DISTINCT key) FROM public.test_runs) AS distinct_keys,
            (SELECT count(*) FROM public.test_runs) AS runs`,
  )
  return { keys: Number(e!.keys), distinctKeys: Number(e!.distinct_keys), runs: Number(e!.runs) }
}

describe(`worker processes on ${engine}`, () => {
  test('SIGKILL mid-batch: every message is processed, each effect applied once, the unsettled ones redelivered', async () => {
    let tiers: Tiers = sys.tiers
    let env: Record<string, string>
    let reopen: (() => Promise<Tiers>) | undefined
    if (engine === 'pglite') {
      const dir = await pgliteDataDir()
      tiers = await dir.open()
      env = await childEnv(dir.dataDir)
      reopen = dir.open
    } else {
      env = await childEnv()
    }
    await createEffectTables(tiers.queue)
    // Batches of ten run concurrently and settle together; the last of each batch is slow, so
    // the nine before it have run but stay unsettled until it finishes.
    await sendBatch(tiers.queue, QUEUES.jobs, Array.from({ length: N }, (_, i) => effect(i, i % 10 === 9 ? 10_000 : 20)))
    if (reopen) await tiers.close() // hand the data directory to the child

    const child = spawnChild('tests/support/worker-child.ts', { ...env, VT: '30', BATCH_SIZE: '10' })
    await child.waitForCount(ran, 5, 120_000) // inside the first batch, long before its slow job is done
    child.proc.kill('SIGKILL')
    await child.proc.exited
    // A COMMIT the child sent just before it died may still be running on its server backend:
    // read what it ran only once those backends are gone.
    if (engine === 'postgres') {
      await eventually(
        async () =>
          (await sys.tiers.queue.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'edp-test-worker%' AND datname = current_database()`))[0]!.n === '0',
        'the killed worker’s connections to close',
      )
    }

    if (reopen) tiers = await reopen()
    try {
      const byChild = (await tiers.queue.query<{ key: string }>(`SELECT key FROM public.test_runs WHERE pid = $1`, [child.proc.pid])).map((r) => r.key)
      await drain(tiers)
      const e = await effects(tiers)
      expect(e.keys).toBe(N)
      expect(e.distinctKeys).toBe(N)
      // Every key the child ran before dying ran once more (its batch was never settled), and no other key did.
      expect(byChild.length).toBeGreaterThanOrEqual(5)
      expect(e.runs).toBe(N + byChild.length)
      const twice = await tiers.queue.query<{ key: string }>(`SELECT key FROM public.test_runs GROUP BY key HAVING count(*) = 2`)
      expect(twice.map((r) => r.key).sort()).toEqual(byChild.sort())
      expect(Number((await metrics(tiers.queue, QUEUES.jobs)).queue_length)).toBe(0)
    } finally {
      if (reopen) await tiers.close()
    }
  }, 180_000)

  test('two workers racing on one queue never run a message twice', async () => {
    await createEffectTables(sys.tiers.queue)
    await sendBatch(sys.tiers.queue, QUEUES.jobs, Array.from({ length: N }, (_, i) => effect(i, 2)))
    if (engine === 'postgres') {
      const env = await childEnv()
      const a = spawnChild('tests/support/worker-child.ts', { ...env, CONCURRENCY: '2', BATCH_SIZE: '5' })
      const b = spawnChild('tests/support/worker-child.ts', { ...env, CONCURRENCY: '2', BATCH_SIZE: '5' })
      await eventually(async () => a.lines.filter(ran).length + b.lines.filter(ran).length >= N, 'every message to run', 120_000)
      for (const c of [a, b]) c.proc.kill('SIGTERM')
      expect(await a.proc.exited).toBe(0)
      expect(await b.proc.exited).toBe(0)
      // Both took part (the race is real), and between them every message ran exactly once.
      expect(a.lines.filter(ran).length).toBeGreaterThan(0)
      expect(b.lines.filter(ran).length).toBeGreaterThan(0)
    } else {
      const options = { queues: [QUEUES.jobs], jobs: testJobs(), batchSize: 5, minConcurrency: 2, maxConcurrency: 2 }
      const workers = [new Worker(sys.deps, options), new Worker(sys.deps, options)]
      await Promise.all(workers.map((w) => w.start()))
      try {
        await eventually(async () => (await effects(sys.tiers)).keys >= N, 'every message to run', 120_000)
      } finally {
        await Promise.all(workers.map((w) => w.stop()))
      }
      expect(workers.every((w) => w.counters()[QUEUES.jobs]!.succeeded > 0)).toBe(true)
    }
    const e = await effects(sys.tiers)
    expect(e).toEqual({ keys: N, distinctKeys: N, runs: N })
  }, 180_000)

  test.skipIf(engine !== 'postgres')('SIGTERM lets in-flight jobs finish within the bound, then exits 0', async () => {
    await createEffectTables(sys.tiers.queue)
    await sendBatch(sys.tiers.queue, QUEUES.jobs, Array.from({ length: 4 }, (_, i) => effect(i, 1_500)))
    const child = spawnChild('tests/support/worker-child.ts', { ...(await childEnv()), BATCH_SIZE: '4', SHUTDOWN_MS: '30000' })
    await child.waitFor((l) => l === 'ready', 60_000)
    const hidden = async () => Number((await sys.tiers.queue.query<{ n: string }>(`SELECT count(*) AS n FROM pgmq.q_jobs WHERE vt > now()`))[0]!.n)
    await eventually(async () => (await hidden()) === 4, 'the batch of four to be running')
    child.proc.kill('SIGTERM')
    expect(await child.proc.exited).toBe(0)
    expect(child.lines).toContain('stopped released=0')
    expect(await effects(sys.tiers)).toEqual({ keys: 4, distinctKeys: 4, runs: 4 })
    expect(Number((await metrics(sys.tiers.queue, QUEUES.jobs)).queue_length)).toBe(0)
  }, 120_000)
})
