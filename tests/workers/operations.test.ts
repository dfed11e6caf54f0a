/** What operators see and do: per-queue figures over the admin API, and dead-letter replay. */
import { beforeEach, describe, expect, test } from 'bun:test'
import { z } from 'zod'
import { ADMIN_TOKEN, tierUrlEnv, useSystem } from '../support/system.ts'
import { call, createTenant } from '../support/api.ts'
import { ROOT } from '../support/child.ts'
import { engine } from '../support/databases.ts'
import { depth, emptyQueues } from '../support/queues.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { read, send } from '../../src/tiers/queue/pgmq.ts'
import { listDeadLetters, requeueDeadLetters } from '../../src/tiers/queue/dead-letters.ts'

const sys = useSystem()

/** A job that fails while its payload says so: one attempt, then a dead letter. */
const payload = z.object({ n: z.number(), fail: z.boolean() })
const sometimesBroken: JobDefinition<typeof payload> = {
  name: 'test.sometimes',
  queue: QUEUES.jobs,
  schema: payload,
  maxAttempts: 1,
  async handler({ fail }) {
    if (fail) throw new Error('smtp relay refused')
  },
}
const jobs = jobMap([sometimesBroken])
const worker = () => new Worker(sys.deps, { queues: [QUEUES.jobs], jobs })
const sendJob = (n: number, fail: boolean) => send(sys.tiers.queue, QUEUES.jobs, { job: 'test.sometimes', payload: { n, fail } })

/** A dead letter of this test's own: its payload carries n. */
async function deadLetter(n: number) {
  await sendJob(n, true)
  await worker().runOnce(QUEUES.jobs) // dead at once: maxAttempts 1
  const dead = (await listDeadLetters(sys.tiers.queue, { queue: 'jobs', limit: 1000 })).find((d) => (d.message.message as any).payload.n === n)
  if (!dead) throw new Error(`no dead letter for ${n}`)
  return dead
}

describe('operations', () => {
  beforeEach(async () => {
    await emptyQueues(sys.tiers)
    await sys.tiers.queue.exec(`TRUNCATE queue.job_logs; SELECT pgmq.purge_queue('dead_letters')`)
  })

  test('GET /v1/admin/queues needs the admin token and reports depth, rate and dead letters', async () => {
    const t = await createTenant(sys, 'ops')
    expect((await call(sys, 'GET', '/v1/admin/queues', { token: t.key })).status).toBe(401)

    await deadLetter(1)
    await sendJob(2, false)
    await worker().runOnce(QUEUES.jobs)
    await sendJob(3, false) // left waiting

    const r = await call(sys, 'GET', '/v1/admin/queues', { token: ADMIN_TOKEN })
    expect(r.status).toBe(200)
    const jobsQueue = r.body.data.find((q: any) => q.queue === 'jobs')
    expect(jobsQueue).toMatchObject({ depth: 1, dead_letters: 1 })
    expect(jobsQueue.processed_per_second).toBeCloseTo(1 / 60, 5)
    expect(jobsQueue.failed_per_second).toBeCloseTo(1 / 60, 5)
    expect(jobsQueue.oldest_age_seconds).toBeGreaterThanOrEqual(0)
    expect(r.body.data.map((q: any) => q.queue)).toEqual(['jobs', 'events'])
  })

  test('a requeued dead letter runs again from its first attempt and leaves dead_letters', async () => {
    const dead = await deadLetter(4)
    expect(dead.message).toMatchObject({ job: 'test.sometimes', error: 'smtp relay refused' })

    const [requeued] = await requeueDeadLetters(sys.tiers.queue, [dead.msg_id])
    expect(requeued).toMatchObject({ dead_letter_id: dead.msg_id, queue: 'jobs' })
    expect(await listDeadLetters(sys.tiers.queue, { limit: 10 })).toEqual([])
    const [msg] = await read(sys.tiers.queue, QUEUES.jobs, 0, 10)
    expect(msg).toMatchObject({ msg_id: requeued!.msg_id, read_ct: 1, message: { job: 'test.sometimes', payload: { n: 4, fail: true } } })
    // Fixed downstream: the replay succeeds.
    await sys.tiers.queue.query(`UPDATE pgmq.q_jobs SET message = jsonb_set(message, '{payload,fail}', 'false') WHERE msg_id = $1`, [requeued!.msg_id])
    expect(await worker().runOnce(QUEUES.jobs)).toBe(1)
    expect(await depth(sys.tiers, QUEUES.jobs)).toBe(0)
    expect(await listDeadLetters(sys.tiers.queue, { limit: 10 })).toEqual([])
  })

  test.skipIf(engine !== 'postgres')('the dead-letters CLI lists, shows and requeues', async () => {
    await deadLetter(9)
    const env = await tierUrlEnv()
    const cli = async (...args: string[]) => {
      const p = Bun.spawn([process.execPath, 'bin/dead-letters.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdout: 'pipe',
        stderr: 'ignore',
      })
      return { code: await p.exited, out: await new Response(p.stdout).text() }
    }
    const list = await cli('list', '--queue', 'jobs')
    expect(list.code).toBe(0)
    const id = list.out.trim().split('\t')[0]!
    expect(list.out).toContain('smtp relay refused')
    const show = await cli('show', id)
    expect(JSON.parse(show.out).message.message.payload).toEqual({ n: 9, fail: true })
    const requeue = await cli('requeue', '--all')
    expect(requeue.out).toContain(`requeued dead letter ${id} as jobs#`)
    expect((await cli('list')).out.trim()).toBe('no dead letters')
    expect((await cli('bogus')).code).toBe(2)
  }, 60_000)
})
