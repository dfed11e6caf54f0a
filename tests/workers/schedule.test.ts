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
import type { Tiers } from '../../src/db/tiers.ts'
import { maintenance, Scheduler } from '../../workers/schedule.ts'

const sys = useSystem()
const INTERVAL_S = 600

/** Every maintenance message ever enqueued (waiting or already run), as job + slot, with how often each was enqueued. */
async function enqueuedPerSlot(tiers: Tiers) {
  const rows = await tiers.queue.query<{ job: string; slot: string; n: string }>(
    `SELECT message->>'job' AS job, message->>'slot' AS slot, count(*) AS n
       FROM (SELECT message FROM pgmq.q_jobs UNION ALL SELECT message FROM pgmq.a_jobs) m
      WHERE message->>'job' LIKE 'content.%' AND message ? 'slot'
      GROUP BY 1, 2 ORDER BY 2, 1`,
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
    const config = testConfig({ MAINTENANCE_INTERVAL_S: String(INTERVAL_S) })
    const schedulers = Array.from({ length: 3 }, () => new Scheduler(makeDeps(sys.tiers, { config, clock }), maintenance(config)))
    const tickAll = async () => (await Promise.all(schedulers.map((s) => s.tick()))).flat()

    const first = await tickAll()
    expect(first.sort()).toEqual(['content.archive', 'content.collect_orphans', 'content.expire'])
    expect(await tickAll()).toEqual([]) // the same slot again: nothing
    clock.advance(INTERVAL_S * 1000)
    expect((await tickAll()).sort()).toEqual(['content.archive', 'content.collect_orphans', 'content.expire'])

    const perSlot = await enqueuedPerSlot(sys.tiers)
    expect(perSlot).toHaveLength(6)
    expect(perSlot.every((r) => r.n === 1)).toBe(true)
    expect(new Set(perSlot.map((r) => r.slot)).size).toBe(2)
  })

  test('a scheduler whose clock lags does not run an interval already claimed', async () => {
    const config = testConfig({ MAINTENANCE_INTERVAL_S: String(INTERVAL_S) })
    const ahead = new TestClock()
    ahead.advance(INTERVAL_S * 1000)
    const leader = new Scheduler(makeDeps(sys.tiers, { config, clock: ahead }), maintenance(config))
    const laggard = new Scheduler(makeDeps(sys.tiers, { config, clock: new TestClock() }), maintenance(config))
    expect(await leader.tick()).toHaveLength(3)
    expect(await laggard.tick()).toEqual([])
    expect(await enqueuedPerSlot(sys.tiers)).toHaveLength(3)
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
    // Each slot ran all three jobs, whichever process won it.
    const bySlot = Map.groupBy(perSlot, (r) => r.slot)
    const full = [...bySlot.values()].filter((rows) => rows.length === 3)
    expect(full.length).toBeGreaterThanOrEqual(3)
    const claimers = await sys.tiers.queue.query<{ claimed_by: string }>(`SELECT DISTINCT claimed_by FROM queue.schedules`)
    expect(claimers.length).toBeGreaterThan(0)
  }, 120_000)
})
