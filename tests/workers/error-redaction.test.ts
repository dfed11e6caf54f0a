/**
 * Database errors echo values: in DETAIL ("Key (email)=(…) already exists"), in the message
 * ('invalid input syntax for type uuid: "…"'), and PGlite attaches the query and its parameters.
 * None of that may reach job_logs, a dead letter or the logs; the SQLSTATE, the constraint and
 * table, the job and the ids do.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { z } from 'zod'
import type { Db, Queryable } from '../../src/db/types.ts'
import { tiersFrom } from '../../src/db/tiers.ts'
import { createApp } from '../../src/http/app.ts'
import { send, setVt } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call } from '../support/api.ts'
import { captureLogs } from '../support/logs.ts'
import { emptyQueues } from '../support/queues.ts'
import { ADMIN_TOKEN, makeDeps, useSystem } from '../support/system.ts'

const sys = useSystem()
const SECRET = 'sk_live_4f9c2a7be1d3'

beforeAll(async () => {
  await sys.tiers.queue.exec(`CREATE TABLE IF NOT EXISTS public.test_secrets (email text CONSTRAINT test_secrets_email_key UNIQUE);
                              TRUNCATE public.test_secrets;`)
})

/** Fails the way a handler meets real data: a duplicate key, or a value of the wrong type. */
const failing = {
  name: 'test.leaky',
  queue: QUEUES.jobs,
  schema: z.object({ kind: z.enum(['duplicate', 'cast']) }),
  maxAttempts: 2,
  async handler(p: { kind: 'duplicate' | 'cast' }, { deps }) {
    const q = deps.tiers.queue
    if (p.kind === 'cast') {
      await q.query(`SELECT $1::uuid`, [SECRET])
      return
    }
    await q.query(`INSERT INTO public.test_secrets (email) VALUES ($1) ON CONFLICT DO NOTHING`, [SECRET])
    await q.query(`INSERT INTO public.test_secrets (email) VALUES ($1)`, [SECRET])
  },
} as JobDefinition

describe('errors written down', () => {
  test('a job failing on a database error leaves no value in job_logs, the dead letter or the logs', async () => {
    await emptyQueues(sys.tiers)
    const logs = captureLogs()
    const deps = makeDeps(sys.tiers, { log: logs.log })
    const worker = new Worker(deps, { queues: [QUEUES.jobs], jobs: jobMap([failing]) })
    const ids = [
      await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.leaky', payload: { kind: 'duplicate' } }),
      await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.leaky', payload: { kind: 'cast' } }),
    ]
    expect(await worker.runOnce(QUEUES.jobs)).toBe(2)
    for (const id of ids) await setVt(sys.tiers.queue, QUEUES.jobs, id, 0)
    expect(await worker.runOnce(QUEUES.jobs)).toBe(2)

    const attempts = await sys.tiers.queue.query<{ msg_id: string; outcome: string; error: string }>(
      `SELECT msg_id, outcome, error FROM queue.job_logs WHERE msg_id = ANY($1::bigint[]) AND queue = 'jobs' ORDER BY id`,
      [ids],
    )
    const dead = await sys.tiers.queue.query<{ message: { msg_id: string; job: string; error: string } }>(
      `SELECT message FROM pgmq.q_dead_letters WHERE message->>'msg_id' = ANY($1::text[])`,
      [ids],
    )
    expect(attempts.map((a) => a.outcome).sort()).toEqual(['dead', 'dead', 'retrying', 'retrying'])
    expect(dead).toHaveLength(2)
    const written = JSON.stringify({ attempts, dead, logs: logs.lines })
    expect(written).not.toContain(SECRET)
    expect(written).not.toContain('test_secrets (email) VALUES') // no query text either

    // What an operator needs stays: the SQLSTATE, the constraint and table, the job and its message id.
    const byId = new Map(dead.map((d) => [d.message.msg_id, d.message]))
    expect(byId.get(ids[0]!)).toMatchObject({ job: 'test.leaky' })
    expect(byId.get(ids[0]!)!.error).toContain('23505')
    expect(byId.get(ids[0]!)!.error).toContain('test_secrets_email_key')
    expect(byId.get(ids[1]!)!.error).toContain('22P02')
    expect(byId.get(ids[1]!)!.error).toContain('invalid input syntax for type uuid')
    const failed = logs.lines.filter((l) => l.msg === 'job failed')
    expect(failed).toHaveLength(2)
    expect(failed.map((l) => (l.err as { code: string }).code).sort()).toEqual(['22P02', '23505'])
  })

  test('an unhandled database error in a route is logged without its values', async () => {
    const logs = captureLogs()
    // Every OLTP statement fails the way a bad value would, in the real driver.
    const fail = (q: Queryable) => () => q.query<never>(`SELECT $1::uuid`, [SECRET])
    const leaky = (db: Db): Db => ({ ...db, query: fail(db), transaction: (fn) => db.transaction((tx) => fn({ ...tx, query: fail(tx) })) })
    const app = createApp(makeDeps(tiersFrom({ ...sys.tiers, oltp: leaky(sys.tiers.oltp) }), { log: logs.log }))
    const r = await call({ ...sys, app }, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'leaky' } })
    expect(r.status).toBe(500)
    const line = logs.lines.find((l) => l.msg === 'request' && l.status === 500)!
    expect(line.level).toBe(50) // error: the request's one line carries the cause
    expect(line.err).toMatchObject({ code: '22P02' })
    expect(logs.text()).not.toContain(SECRET)
    expect(JSON.stringify(r.body)).not.toContain(SECRET)
  })
})
