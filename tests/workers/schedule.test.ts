/**
 * Periodic maintenance runs once per slot across every worker process: however many schedulers
 * tick, each job is enqueued once per interval, and a process whose clock lags never runs an
 * interval that is already done.
 */
import { beforeEach, describe, expect, test } from 'bun:test'
import { spawnChild } from '../support/child.ts'
import { TestClock } from '../support/clock.ts'
import { engine } from '../support/databases.ts'
import { eventually } from '../support/eventually.ts'
import { emptyQueues } from '../support/queues.ts'
import { makeDeps, testConfig, tierUrlEnv, useSystem } from '../support/system.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { faultyDb } from '../support/faults.ts'
import { maintenance, Scheduler } from '../../workers/schedule.ts'

const sys = useSystem()
const INTERVAL_S = 600
/** Scheduled backups on too, at the same interval: a set must also be taken once per slot across processes. */
const SCHEDULED = { MAINTENANCE_INTERVAL_S: String(INTERVAL_S), BACKUP_DIR: '/nonexistent/edp-backups', BACKUP_INTERVAL_MIN: String(INTERVAL_S / 60) }
/** Every maintenance job, in name order. */
const JOBS = maintenance(testConfig(SCHEDULED)).map((s) => s.job).sort()

/** Every maintenance message ever enqueued (waiting or already run), as job + slot, with how often each was enqueued. */
async function enqueuedPerSlot(tiers: Tiers) {
  const rows = await tiers.queue.query<{ job: string; slot: string; n: string }>(
    `SELECT message->>'job' AS job, message->>'slot' AS slot, count(*) AS n
       FROM (SELECT message FROM pgmq.q_jobs UNION ALL SELECT message FROM pgmq.a_jobs) m
      WHERE message->>'job' = ANY($1) AND message ? 'slot'
      GROUP BY 1, 2 ORDER BY 2, 1`,
    [JOBS],
  )
  return rows.map((r) => ({ job: r.job, slot: r.slot, n: Number(r.n) }))
}

beforeEach(async () => {
  await emptyQueues(sys.tiers)
  await sys.tiers.queue.exec(`TRUNCATE pgmq.a_jobs, queue.schedules`)
})

describe('maintenance scheduling', () => {
  test('three schedulers ticking through two intervals enqueue each job once per interval', async () => {
    const clock = new TestClock()
    const config = testConfig(SCHEDULED)
    const schedulers = Array.from({ length: 3 }, () => new Scheduler(makeDeps(sys.tiers, { config, clock }), maintenance(config)))
    const tickAll = async () => (await Promise.all(schedulers.map((s) => s.tick()))).flat()

    const first = await tickAll()
    expect(first.sort()).toEqual(JOBS)
    expect(await tickAll()).toEqual([]) // the same slot again: nothing
    clock.advance(INTERVAL_S * 1000)
    expect((await tickAll()).sort()).toEqual(JOBS)

    const perSlot = await enqueuedPerSlot(sys.tiers)
    expect(perSlot).toHaveLength(2 * JOBS.length)
    expect(perSlot.every((r) => r.n === 1)).toBe(true)
    expect(new Set(perSlot.map((r) => r.slot)).size).toBe(2)
  })

  test('a scheduler whose clock lags does not run an interval already claimed', async () => {
    const config = testConfig(SCHEDULED)
    const ahead = new TestClock()
    ahead.advance(INTERVAL_S * 1000)
    const leader = new Scheduler(makeDeps(sys.tiers, { config, clock: ahead }), maintenance(config))
    const laggard = new Scheduler(makeDeps(sys.tiers, { config, clock: new TestClock() }), maintenance(config))
    expect(await leader.tick()).toHaveLength(JOBS.length)
    expect(await laggard.tick()).toEqual([])
    expect(await enqueuedPerSlot(sys.tiers)).toHaveLength(JOBS.length)
  })

  test('a slot whose claim failed is asked for again on the next tick', async () => {
    const config = testConfig(SCHEDULED)
    let down = true
    const queue = faultyDb(sys.tiers.queue, (text) => down && text.includes('queue.schedules'), 'queue database unreachable')
    const scheduler = new Scheduler(makeDeps(tiersFrom({ ...sys.tiers, queue }), { config }), maintenance(config))
    await expect(scheduler.tick()).rejects.toThrow('queue database unreachable')
    down = false
    expect((await scheduler.tick()).sort()).toEqual(JOBS)
    expect(await enqueuedPerSlot(sys.tiers)).toHaveLength(JOBS.length)
  })

  test.skipIf(engine !== 'postgres')('three worker processes run each maintenance job once per slot', async () => {
    const env = { ...(await tierUrlEnv()), MAINTENANCE_INTERVAL_S: '1', LOG_LEVEL: 'info' }
    const workers = Array.from({ length: 3 }, () => spawnChild('bin/workers.ts', env))
    try {
      for (const w of workers) await w.waitFor((l) => l.includes('"worker started"'), 60_000)
      // Let at least three slots pass with all three processes ticking four times a slot.
      await eventually(async () => new Set((await enqueuedPerSlot(sys.tiers)).map((r) => r.slot)).size >= 4, 'four slots', 60_000)
    } finally {
      for (const w of workers) w.proc.kill('SIGTERM')
      for (const w of workers) expect(await w.proc.exited).toBe(0)
    }
    const perSlot = await enqueuedPerSlot(sys.tiers)
    expect(perSlot.filter((r) => r.n !== 1)).toEqual([])
    // Each slot ran every maintenance job, whichever process won it.
    const bySlot = Map.groupBy(perSlot, (r) => r.slot)
    // These processes have no BACKUP_DIR: every job but the backup.
    const jobs = maintenance(testConfig()).length
    const full = [...bySlot.values()].filter((rows) => rows.length === jobs)
    expect(full.length).toBeGreaterThanOrEqual(3)
    // The claim table remembers, per job, the newest slot that was enqueued (beside the workers' heartbeat row).
    const claimed = await sys.tiers.queue.query<{ name: string; slot: Date }>(
      `SELECT name, slot FROM queue.schedules WHERE name <> 'worker heartbeat' ORDER BY name`,
    )
    const newest = (job: string) => perSlot.filter((r) => r.job === job).map((r) => r.slot).sort().at(-1)
    expect(claimed.map((c) => [c.name, c.slot.toISOString()])).toEqual(claimed.map((c) => [c.name, newest(c.name) ?? 'none']))
    expect(claimed).toHaveLength(jobs)
  }, 120_000)
})
