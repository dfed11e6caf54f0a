/**
 * The leak check that runs after every test file names what a file leaves open: a started
 * worker, a LISTEN, a pool, a timer from our code. Here each is left open on purpose, seen by the
 * check, then closed.
 */
import { describe, expect, test } from 'bun:test'
import { leaksSince, snapshot } from './support/leaks.ts'
import { useSystem } from './support/system.ts'
import { postgresDb } from '../src/db/postgres.ts'
import { OutboxRelay } from '../src/services/outbox.ts'
import { QUEUES } from '../src/tiers/queue/queues.ts'
import { HANDLERS } from '../workers/handlers/index.ts'
import { Worker } from '../workers/runtime/worker.ts'

const sys = useSystem()

describe('the leak check', () => {
  test('names a worker, its LISTEN and its timer until the worker stops', async () => {
    const before = snapshot()
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: HANDLERS, pollIntervalMs: 60_000 })
    await worker.start()
    try {
      const open = leaksSince(before)
      expect(open.some((l) => l.startsWith('worker: '))).toBe(true)
      expect(open.some((l) => l.startsWith('listen: ') && l.includes('pgmq.q_jobs.INSERT'))).toBe(true)
      expect(open.some((l) => l.startsWith('timer: setInterval') && l.includes('/workers/runtime/worker.ts'))).toBe(true)
    } finally {
      await worker.stop()
    }
    expect(leaksSince(before)).toEqual([])
  })

  test('names a pool until it is closed, and a sweep timer until the relay stops', async () => {
    const before = snapshot()
    // postgres.js connects lazily: a pool that is never queried opens no connection.
    const db = postgresDb('postgres://leak-probe@127.0.0.1:9/none')
    const relay = new OutboxRelay(sys.tiers, sys.deps.log)
    relay.startSweep(60_000)
    try {
      expect(leaksSince(before)).toEqual(
        expect.arrayContaining([
          'pool: postgres://leak-probe@127.0.0.1:9/none',
          'timer: outbox sweep',
          expect.stringMatching(/^timer: setInterval\(60000 ms\) at .*src\/services\/outbox\.ts/),
        ]),
      )
    } finally {
      await db.close()
      await relay.stop()
    }
    expect(leaksSince(before)).toEqual([])
  })
})
