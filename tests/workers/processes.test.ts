/**
 * The runtime as separate processes: a worker killed with SIGKILL mid-batch loses nothing and
 * applies nothing twice (its messages come back after the visibility timeout and the idempotent
 * handler absorbs the repeat); two workers racing on one queue never run a message twice within
 * its visibility window; SIGTERM finishes in-flight work and exits.
 *
 * On PostgreSQL the children share the test databases. PGlite cannot be shared between live
 * processes, so there the child runs on a data directory that the test opens after the kill.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { engine, migratedSnapshot } from '../support/databases.ts'
import { spawnChild } from '../support/child.ts'
import { createEffectTables, testJobs } from '../support/test-jobs.ts'
import { makeDeps, tierUrlEnv, useSystem } from '../support/system.ts'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { buildDeps } from '../../src/system.ts'
import { testConfig } from '../support/system.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { QUEUES } from '../../src/events/envelope.ts'
import { metrics, sendBatch } from '../../src/tiers/queue/pgmq.ts'

const sys = useSystem()
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const N = 60
const messages = (sleepMs: number) => Array.from({ length: N }, (_, i) => ({ job: 'test.effect', payload: { key: `k${i}`, sleep_ms: sleepMs } }))
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

async function drain(tiers: Tiers) {
  const worker = new Worker(makeDeps(tiers), { queues: [QUEUES.jobs], jobs: testJobs(), batchSize: 50 })
  // Whatever the dead worker held is hidden until its visibility timeout (2 s) runs out.
  for (let i = 0; i < 100 && Number((await metrics(tiers.queue, QUEUES.jobs)).queue_length) > 0; i++) {
    if ((await worker.runOnce(QUEUES.jobs)) === 0) await Bun.sleep(200)
  }
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
  test('SIGKILL mid-batch: every message is processed, each effect applied once', async () => {
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
    await sendBatch(tiers.queue, QUEUES.jobs, messages(30))
    if (reopen) await tiers.close() // hand the data directory to the child

    const child = spawnChild('tests/support/worker-child.ts', { ...env, VT: '2', BATCH_SIZE: '10' })
    await child.waitForCount(ran, 15) // killed part-way through a batch
    child.proc.kill('SIGKILL')
    await child.proc.exited

    if (reopen) tiers = await reopen()
    try {
      await drain(tiers)
      const e = await effects(tiers)
      expect(e.keys).toBe(N)
      expect(e.distinctKeys).toBe(N)
      expect(e.runs).toBeGreaterThanOrEqual(N) // some ran twice: the kill interrupted their settle
      expect(Number((await metrics(tiers.queue, QUEUES.jobs)).queue_length)).toBe(0)
    } finally {
      if (reopen) await tiers.close()
    }
  }, 60_000)

  test('two workers racing on one queue never run a message twice', async () => {
    await createEffectTables(sys.tiers.queue)
    await sendBatch(sys.tiers.queue, QUEUES.jobs, messages(2))
    if (engine === 'postgres') {
      const env = await childEnv()
      const a = spawnChild('tests/support/worker-child.ts', { ...env, CONCURRENCY: '2', BATCH_SIZE: '5' })
      const b = spawnChild('tests/support/worker-child.ts', { ...env, CONCURRENCY: '2', BATCH_SIZE: '5' })
      const all = async () => a.lines.filter(ran).length + b.lines.filter(ran).length
      for (let i = 0; i < 300 && (await all()) < N; i++) await Bun.sleep(50)
      for (const c of [a, b]) c.proc.kill('SIGTERM')
      expect(await a.proc.exited).toBe(0)
      expect(await b.proc.exited).toBe(0)
      // Both took part (the race is real), and between them every message ran exactly once.
      expect(a.lines.filter(ran).length).toBeGreaterThan(0)
      expect(b.lines.filter(ran).length).toBeGreaterThan(0)
    } else {
      const deps = buildDeps(testConfig(), sys.tiers, pino({ level: 'silent' }), 'x')
      const options = { queues: [QUEUES.jobs], jobs: testJobs(), batchSize: 5, minConcurrency: 2, maxConcurrency: 2 }
      const workers = [new Worker(deps, options), new Worker(deps, options)]
      await Promise.all(workers.map((w) => w.start()))
      for (let i = 0; i < 300 && (await effects(sys.tiers)).keys < N; i++) await Bun.sleep(20)
      await Promise.all(workers.map((w) => w.stop()))
      expect(workers.every((w) => w.counters()[QUEUES.jobs]!.succeeded > 0)).toBe(true)
    }
    const e = await effects(sys.tiers)
    expect(e).toEqual({ keys: N, distinctKeys: N, runs: N })
  }, 60_000)

  test.skipIf(engine !== 'postgres')('SIGTERM lets in-flight jobs finish within the bound, then exits 0', async () => {
    await createEffectTables(sys.tiers.queue)
    await sendBatch(sys.tiers.queue, QUEUES.jobs, messages(400).slice(0, 4))
    const child = spawnChild('tests/support/worker-child.ts', { ...(await childEnv()), BATCH_SIZE: '4', SHUTDOWN_MS: '5000' })
    await child.waitFor((l) => l === 'ready')
    await Bun.sleep(150) // the batch of four is running
    child.proc.kill('SIGTERM')
    expect(await child.proc.exited).toBe(0)
    expect(child.lines).toContain('stopped released=0')
    expect(await effects(sys.tiers)).toEqual({ keys: 4, distinctKeys: 4, runs: 4 })
    expect(Number((await metrics(sys.tiers.queue, QUEUES.jobs)).queue_length)).toBe(0)
  }, 30_000)
})
