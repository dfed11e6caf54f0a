/**
 * A request's ids travel with the jobs it causes: the envelope of its message.created job names
 * the request (through the OLTP outbox when OLTP and queue are two databases), and the worker's
 * log lines for that job carry the same ids as the request's access line.
 */
import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { captureLogs } from '../support/logs.ts'
import { emptyQueues } from '../support/queues.ts'
import { makeDeps, useSystem, type TestSystem } from '../support/system.ts'

const sys = useSystem()

/** An app and a worker over the test tiers, both logging (at debug) into one capture. */
function traced() {
  const logs = captureLogs('debug')
  const deps = makeDeps(sys.tiers, { log: logs.log })
  const traced: TestSystem = { tiers: sys.tiers, deps, app: createApp(deps) }
  const worker = new Worker(deps, { queues: [QUEUES.events, QUEUES.jobs], jobs: HANDLERS })
  return { logs, traced, worker, deps }
}

describe('request ids in jobs', () => {
  test('the worker line for the message.created job a request caused carries that request\'s ids', async () => {
    await emptyQueues(sys.tiers)
    const tenant = await createTenant(sys)
    const { logs, traced: app, worker, deps } = traced()
    const created = await call(app, 'POST', '/v1/messages', {
      token: tenant.key,
      body: messageBody(tenant.accountId),
      headers: { 'x-request-id': 'checkout-4711' },
    })
    expect(created.status).toBe(201)
    const access = logs.lines.find((l) => l.msg === 'request' && l.route === '/v1/messages')!
    expect(access.client_request_id).toBe('checkout-4711')

    await deps.outbox.kick() // two databases: the job waits in the OLTP outbox
    expect(await worker.runOnce(QUEUES.events)).toBeGreaterThanOrEqual(1)
    const done = logs.lines.filter((l) => l.msg === 'job succeeded' && l.job === 'message.created')
    expect(done).toHaveLength(1)
    expect(done[0]).toMatchObject({ request_id: access.request_id, client_request_id: 'checkout-4711' })
  })

  test('the envelope names the request; a job no request caused names none', async () => {
    await emptyQueues(sys.tiers)
    const tenant = await createTenant(sys)
    const { traced: app, deps } = traced()
    const created = await call(app, 'POST', '/v1/messages', { token: tenant.key, body: messageBody(tenant.accountId) })
    expect(created.status).toBe(201)
    await deps.outbox.kick()
    await enqueue(sys.tiers.queue, 'analytics.refresh', {})
    const envelopes = await sys.tiers.queue.query<{ message: Record<string, unknown> }>(
      `SELECT message FROM pgmq.q_events UNION ALL SELECT message FROM pgmq.q_jobs`,
    )
    const byJob = new Map(envelopes.map((e) => [e.message.job, e.message]))
    expect(byJob.get('message.created')!.request_id).toBe(created.headers.get('x-request-id')!)
    expect(byJob.get('message.created')).not.toHaveProperty('client_request_id')
    expect(byJob.get('analytics.refresh')).not.toHaveProperty('request_id')
  })

  test('a malformed request id in an envelope is dropped, and the job still runs', async () => {
    await emptyQueues(sys.tiers)
    const { logs, worker } = traced()
    await send(sys.tiers.queue, QUEUES.jobs, { job: 'analytics.refresh', payload: {}, request_id: 42, client_request_id: 'x'.repeat(500) })
    expect(await worker.runOnce(QUEUES.jobs)).toBe(1)
    const done = logs.lines.filter((l) => l.msg === 'job succeeded' && l.job === 'analytics.refresh')
    expect(done).toHaveLength(1)
    expect(done[0]).not.toHaveProperty('request_id')
    expect(done[0]).not.toHaveProperty('client_request_id')
  })
})
