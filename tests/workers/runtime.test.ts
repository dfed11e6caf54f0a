/**
 * The worker runtime on the real pgmq: success archives and logs, a redelivered event is
 * recorded once, a failure retries with backoff and then dead-letters, and a payload that does
 * not match its schema is dead-lettered at once.
 */
import { beforeEach, describe, expect, test } from 'bun:test'
import { z } from 'zod'
import { useSystem } from '../support/system.ts'
import { createTenant, messageBody, call } from '../support/api.ts'
import { createEffectTables, testJobs } from '../support/test-jobs.ts'
import { eventually } from '../support/eventually.ts'
import { depth as queueDepth, emptyQueues } from '../support/queues.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'
import { listEventsForMessage } from '../../src/tiers/analytics/events.ts'
import { read, send, sendBatch, setVt } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'

const sys = useSystem()

/** Job logs of a queue, leaving out the analytics refreshes that message writes schedule. */
const jobLogs = (queue: string) =>
  sys.tiers.queue.query<{ msg_id: string; job: string; attempt: number; outcome: string; error: string | null }>(
    `SELECT msg_id, job, attempt, outcome, error FROM queue.job_logs WHERE queue = $1 AND job <> 'analytics.refresh' ORDER BY id`,
    [queue],
  )
const depth = (queue: string) => queueDepth(sys.tiers, queue)

// Each test starts from empty work queues: the counts below are of its own messages.
beforeEach(async () => {
  await sys.deps.outbox.kick()
  await emptyQueues(sys.tiers)
})

describe('message.created', () => {
  test('becomes exactly one `sent` fact, however often it is delivered', async () => {
    const t = await createTenant(sys, 'workers')
    const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
    await sys.deps.outbox.kick()
    const [original] = await sys.tiers.queue.query<{ message: unknown }>(`SELECT message FROM pgmq.q_events WHERE message->'payload'->>'message_id' = $1`, [m.body.id])
    // At-least-once delivery: the same event arrives again.
    await send(sys.tiers.queue, QUEUES.events, original!.message)

    const worker = new Worker(sys.deps, { queues: [QUEUES.events], jobs: HANDLERS })
    expect(await worker.runOnce(QUEUES.events)).toBe(2)
    const events = await listEventsForMessage(sys.tiers.analytics, t.id, m.body.id)
    expect(events.map((e) => [e.type, e.email_account_id])).toEqual([['sent', t.accountId]])
    expect(await depth(QUEUES.events)).toBe(0)
    const logs = (await jobLogs(QUEUES.events)).slice(-2)
    expect(logs.map((l) => [l.job, l.outcome, l.attempt])).toEqual([
      ['message.created', 'succeeded', 1],
      ['message.created', 'succeeded', 1],
    ])
  })
})

describe('failures', () => {
  let calls = 0
  beforeEach(() => {
    calls = 0
  })
  const flaky: JobDefinition = {
    name: 'test.flaky',
    queue: QUEUES.jobs,
    schema: z.object({ n: z.number() }),
    maxAttempts: 2,
    async handler() {
      calls++
      throw new Error('downstream unavailable')
    },
  }
  const jobs = jobMap([flaky])

  test('a failing job is hidden with backoff, retried, then dead-lettered with its last error', async () => {
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs, baseBackoffSeconds: 30 })
    const msgId = await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.flaky', payload: { n: 1 } })

    expect(await worker.runOnce(QUEUES.jobs)).toBe(1)
    // Backed off: invisible now, still queued.
    expect(await read(sys.tiers.queue, QUEUES.jobs, 0, 10)).toHaveLength(0)
    const [hidden] = await sys.tiers.queue.query<{ vt: Date }>(`SELECT vt FROM pgmq.q_jobs WHERE msg_id = $1`, [msgId])
    expect(hidden!.vt.getTime() - Date.now()).toBeGreaterThan(10_000)

    await setVt(sys.tiers.queue, QUEUES.jobs, msgId, 0) // skip the wait
    expect(await worker.runOnce(QUEUES.jobs)).toBe(1)
    expect(calls).toBe(2)
    expect(await depth(QUEUES.jobs)).toBe(0)
    const [dead] = await sys.tiers.queue.query<{ message: any }>(`SELECT message FROM pgmq.q_dead_letters WHERE message->>'msg_id' = $1`, [msgId])
    expect(dead!.message).toMatchObject({ queue: 'jobs', msg_id: msgId, job: 'test.flaky', error: 'downstream unavailable' })
    expect((await jobLogs(QUEUES.jobs)).filter((l) => l.msg_id === msgId).map((l) => [l.outcome, l.attempt, l.error])).toEqual([
      ['retrying', 1, 'downstream unavailable'],
      ['dead', 2, 'downstream unavailable'],
    ])
  })

  test('an invalid payload or an unknown job is dead at once, without running anything', async () => {
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs })
    await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.flaky', payload: { n: 'not a number' } })
    await send(sys.tiers.queue, QUEUES.jobs, { job: 'no.such.job', payload: {} })
    await send(sys.tiers.queue, QUEUES.jobs, 'not an envelope')
    expect(await worker.runOnce(QUEUES.jobs)).toBe(3)
    expect(calls).toBe(0)
    expect(await depth(QUEUES.jobs)).toBe(0)
    const outcomes = (await jobLogs(QUEUES.jobs)).slice(-3).map((l) => [l.job, l.outcome, l.error?.split(':')[0]])
    expect(outcomes).toEqual([
      ['test.flaky', 'dead', 'invalid payload'],
      ['no.such.job', 'dead', 'unknown job no.such.job'],
      ['(malformed)', 'dead', 'malformed envelope'],
    ])
  })
})

describe('wake-up', () => {
  test('a started worker picks up a new message through NOTIFY, long before its poll interval', async () => {
    const t = await createTenant(sys, 'wake')
    const worker = new Worker(sys.deps, { queues: [QUEUES.events], jobs: HANDLERS, pollIntervalMs: 60_000 })
    await worker.start()
    try {
      const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
      await sys.deps.outbox.kick()
      // Well within the 60 s poll interval: only the insert notification can have woken it.
      const events = await eventually(async () => (await listEventsForMessage(sys.tiers.analytics, t.id, m.body.id)).length, 'the sent event', 20_000)
      expect(events).toBe(1)
    } finally {
      await worker.stop()
    }
  })
})

describe('leases and shutdown', () => {
  test('a handler running past its visibility timeout keeps the message leased', async () => {
    await createEffectTables(sys.tiers.queue)
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: testJobs(), visibilityTimeout: 2 })
    const msgId = await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.effect', payload: { key: 'slow', sleep_ms: 4_000 } })
    const vt = async () => (await sys.tiers.queue.query<{ vt: Date }>(`SELECT vt FROM pgmq.q_jobs WHERE msg_id = $1`, [msgId]))[0]!.vt
    const running = worker.runOnce(QUEUES.jobs)
    await eventually(async () => (await vt()).getTime() > Date.now(), 'the message to be read')
    const leasedUntil = (await vt()).getTime()
    // While the handler runs, the runtime pushes the lease out (every second, by 2 s): the
    // visibility timeout moves past where the read set it, so no other read can take the message.
    await eventually(async () => (await vt()).getTime() > leasedUntil, 'the lease to be extended', 10_000)
    expect(await read(sys.tiers.queue, QUEUES.jobs, 30, 10)).toHaveLength(0)
    expect(await running).toBe(1)
    const runs = await sys.tiers.queue.query(`SELECT key FROM public.test_runs`)
    expect(runs).toHaveLength(1)
    expect(await depth(QUEUES.jobs)).toBe(0)
  }, 30_000)

  test('stop() waits for in-flight work within its bound, then releases what is left at once', async () => {
    await createEffectTables(sys.tiers.queue)
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: testJobs(), pollIntervalMs: 20 })
    await sendBatch(sys.tiers.queue, QUEUES.jobs, [
      { job: 'test.effect', payload: { key: 'stuck', sleep_ms: 5_000 } },
      { job: 'test.effect', payload: { key: 'also-stuck', sleep_ms: 5_000 } },
    ])
    await worker.start()
    const hidden = async () => Number((await sys.tiers.queue.query<{ n: string }>(`SELECT count(*) AS n FROM pgmq.q_jobs WHERE vt > now()`))[0]!.n)
    await eventually(async () => (await hidden()) === 2, 'both messages read')
    // Handlers still have seconds to run: a stop that waited for them would release none.
    const released = await worker.stop({ timeoutMs: 300 })
    expect(released).toBe(2)
    // Visible again right away, for the next worker, as a second delivery.
    const again = await read(sys.tiers.queue, QUEUES.jobs, 30, 10)
    expect(again.map((m) => m.read_ct)).toEqual([2, 2])
    // The abandoned handlers finish, and the stopped worker settles nothing for them.
    await eventually(async () => (await sys.tiers.queue.query(`SELECT 1 FROM public.test_runs`)).length === 2, 'the abandoned handlers to finish')
    expect(await depth(QUEUES.jobs)).toBe(2)
  }, 30_000)

  test('stop() with nothing in flight returns promptly and releases nothing', async () => {
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: testJobs(), pollIntervalMs: 60_000 })
    await worker.start()
    expect(await worker.stop({ timeoutMs: 5_000 })).toBe(0)
  })
})

describe('producers', () => {
  test('enqueue checks the payload against the job schema before anything is sent', async () => {
    const before = await depth(QUEUES.events)
    const bad = { tenant_id: 'nope' } as never
    expect(() => enqueue(sys.tiers.queue, 'message.created', bad)).toThrow()
    expect(await depth(QUEUES.events)).toBe(before)
  })

  test('a send inside a rolled-back transaction never reaches the queue; ids are exact bigint strings', async () => {
    const before = await depth(QUEUES.jobs)
    await expect(
      sys.tiers.queue.transaction(async (tx) => {
        await send(tx, QUEUES.jobs, { job: 'x', payload: {} })
        throw new Error('rollback')
      }),
    ).rejects.toThrow('rollback')
    expect(await depth(QUEUES.jobs)).toBe(before)
    const ids = await sendBatch(sys.tiers.queue, QUEUES.jobs, [{ a: 1 }, { a: 2 }])
    expect(ids.every((id) => typeof id === 'string' && /^\d+$/.test(id))).toBe(true)
    expect(BigInt(ids[1]!) - BigInt(ids[0]!)).toBe(1n)
  })
})
