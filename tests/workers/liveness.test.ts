/**
 * Worker liveness: a started worker records a heartbeat in the queue tier; /ready reports the
 * workers gone when none beat within WORKER_HEARTBEAT_TIMEOUT_S while a queued message is older
 * than that. That makes a process that runs its workers itself (embedded) not ready; an API in
 * server mode reports it and stays ready. /metrics shows edp_worker_heartbeat_age_seconds.
 */
import { beforeEach, describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call } from '../support/api.ts'
import { emptyQueues } from '../support/queues.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { testJobs } from '../support/test-jobs.ts'

const sys = useSystem()

/** /ready from a fresh app (the answer is cached for a second per app). */
const ready = async (config = testConfig()) => call({ ...sys, app: createApp(makeDeps(sys.tiers, { config })) }, 'GET', '/ready')
const ageHeartbeat = (seconds: number) =>
  sys.tiers.queue.query(`UPDATE queue.schedules SET slot = now() - make_interval(secs => $1) WHERE name = 'worker heartbeat'`, [seconds])
/** A message waiting in the jobs queue since `seconds` ago (hidden, so nothing here runs it). */
async function waitingSince(seconds: number) {
  const id = await send(sys.tiers.queue, QUEUES.jobs, { job: 'test.effect', payload: { key: 'waiting' } }, 3600)
  await sys.tiers.queue.query(`UPDATE pgmq.q_jobs SET enqueued_at = now() - make_interval(secs => $1) WHERE msg_id = $2`, [seconds, id])
}

/** A worker that starts (recording its first heartbeat) and stops. */
async function beatOnce() {
  const worker = new Worker(makeDeps(sys.tiers), { queues: [QUEUES.jobs], jobs: testJobs(), pollIntervalMs: 60_000 })
  await worker.start()
  await worker.stop()
}

beforeEach(async () => {
  await emptyQueues(sys.tiers)
  await sys.tiers.queue.query(`DELETE FROM queue.schedules WHERE name = 'worker heartbeat'`)
})

describe('worker liveness', () => {
  test('no worker yet and nothing waiting: ready', async () => {
    const r = await ready()
    expect(r.status).toBe(200)
    expect(r.body.workers).toEqual({ ok: true, heartbeat_age_seconds: null, oldest_message_age_seconds: null })
  })

  test('no worker ever, and a message waiting past the timeout: not ready, saying why', async () => {
    await waitingSince(120)
    const r = await ready()
    expect(r.status).toBe(503)
    expect(r.body.tiers.queue).toEqual({ ok: true })
    expect(r.body.workers).toMatchObject({ ok: false, heartbeat_age_seconds: null })
    expect(r.body.workers.oldest_message_age_seconds).toBeGreaterThanOrEqual(120)
    expect(r.body.workers.detail).toMatch(/^no worker heartbeat ever; the oldest queued message is \d+ s old$/)
  })

  test('a started worker beats; once its beat is older than the timeout with work waiting, not ready', async () => {
    await beatOnce()
    await waitingSince(120)
    const alive = await ready()
    expect(alive.status).toBe(200)
    expect(alive.body.workers.ok).toBe(true)
    expect(alive.body.workers.heartbeat_age_seconds).toBeLessThan(30)

    await ageHeartbeat(90)
    const gone = await ready()
    expect(gone.status).toBe(503)
    expect(gone.body.workers.detail).toMatch(/^no worker heartbeat for 9\d s; /)
  })

  test('an old heartbeat with nothing waiting is an idle system: ready', async () => {
    await beatOnce()
    await ageHeartbeat(600)
    const r = await ready()
    expect(r.status).toBe(200)
    expect(r.body.workers).toMatchObject({ ok: true, oldest_message_age_seconds: null })
  })

  test('an API that does not run the workers reports them gone and stays ready', async () => {
    await waitingSince(120)
    const r = await ready(testConfig({ WORKERS_IN_PROCESS: 'false' }))
    expect(r.status).toBe(200)
    expect(r.body.workers.ok).toBe(false)
  })

  test('/metrics shows the heartbeat age', async () => {
    await beatOnce()
    await ageHeartbeat(42)
    const app = createApp(makeDeps(sys.tiers))
    const r = await call({ ...sys, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })
    expect(r.body).toMatch(/^edp_worker_heartbeat_age_seconds 4[2-9](\.\d+)?$/m)
  })
})
