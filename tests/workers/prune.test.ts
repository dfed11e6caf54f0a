/**
 * Bounded growth: maintenance.prune deletes what is past its retention (job logs, pgmq archives,
 * events, content tombstones, the audit log, webhook receipts, idempotency keys) and keeps what
 * is not; it reports, never deletes, outbox rows a relay left; a copy of a pruned event is
 * refused, not counted twice; every batch is bounded and a full one chains the next; the job is
 * scheduled once per slot. Old rows are dated back in the database, or the prune runs on a test
 * clock moved forward.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { TestClock } from '../support/clock.ts'
import { drainQueues, emptyQueues, runVisible } from '../support/queues.ts'
import { makeDeps, testConfig, useSystem, type TestSystem } from '../support/system.ts'
import type { Deps } from '../../src/deps.ts'
import { createApp } from '../../src/http/app.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { pruneBatch, type PruneRun } from '../../src/services/prune.ts'
import { expireDue } from '../../src/services/retention.ts'
import { archive, send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { maintenance, Scheduler } from '../../workers/schedule.ts'
import { NO_TENANT } from '../../src/tiers/oltp/audit-log.ts'

const DAY_MS = 86_400_000
const config = testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
const sys = useSystem(config)

/** A Deps (and app) on a clock moved `days` ahead. */
function later(days: number): TestSystem {
  const clock = new TestClock()
  clock.advance(days * DAY_MS)
  const deps = makeDeps(sys.tiers, { config, clock })
  return { tiers: sys.tiers, deps, app: createApp(deps) }
}

/** Runs a whole prune the way its chained jobs would: batches until none is full. */
async function pruneAll(deps: Deps, batch_size = 5_000): Promise<PruneRun[]> {
  const runs = [await pruneBatch(deps, { batch_size })]
  while (Object.keys(runs.at(-1)!.resume).length > 0) runs.push(await pruneBatch(deps, { batch_size, resume: runs.at(-1)!.resume }))
  return runs
}

const count = async (db: { query: TestSystem['tiers']['queue']['query'] }, sql: string, params: unknown[] = []) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params))[0]!.n)

/** Job log rows finished `days` ago, under a job name the test can count. */
const insertJobLogs = (job: string, n: number, days: number) =>
  sys.tiers.queue.query(
    `INSERT INTO queue.job_logs (queue, msg_id, job, attempt, outcome, duration_ms, worker_id, started_at, finished_at)
     SELECT 'jobs', g, $1, 1, 'succeeded', 0, 'test', now() - make_interval(days => $3), now() - make_interval(days => $3)
       FROM generate_series(1, $2::int) g`,
    [job, n, days],
  )

async function messageOf(t: TenantFixture) {
  const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
  expect(m.status).toBe(201)
  return m.body.id as string
}

describe('maintenance.prune', () => {
  test('job logs older than JOB_LOG_RETENTION_DAYS go; younger ones stay', async () => {
    await insertJobLogs('prune.old-log', 3, 15)
    await insertJobLogs('prune.young-log', 2, 13)
    const runs = await pruneAll(sys.deps)
    expect(runs[0]!.deleted.job_logs).toBeGreaterThanOrEqual(3)
    expect(await count(sys.tiers.queue, `queue.job_logs WHERE job = 'prune.old-log'`)).toBe(0)
    expect(await count(sys.tiers.queue, `queue.job_logs WHERE job = 'prune.young-log'`)).toBe(2)
  })

  test('every queue’s pgmq archive loses rows archived before QUEUE_ARCHIVE_RETENTION_DAYS, and keeps the rest', async () => {
    const ids: Record<string, { old: string; young: string }> = {}
    for (const queue of Object.values(QUEUES)) {
      const old = await send(sys.tiers.queue, queue, { job: 'prune.test', payload: {} })
      const young = await send(sys.tiers.queue, queue, { job: 'prune.test', payload: {} })
      await archive(sys.tiers.queue, queue, [old, young])
      await sys.tiers.queue.query(`UPDATE pgmq.a_${queue} SET archived_at = now() - interval '8 days' WHERE msg_id = $1`, [old])
      await sys.tiers.queue.query(`UPDATE pgmq.a_${queue} SET archived_at = now() - interval '6 days' WHERE msg_id = $1`, [young])
      ids[queue] = { old, young }
    }
    await pruneAll(sys.deps)
    for (const [queue, { old, young }] of Object.entries(ids)) {
      expect(await count(sys.tiers.queue, `pgmq.a_${queue} WHERE msg_id = $1`, [old])).toBe(0)
      expect(await count(sys.tiers.queue, `pgmq.a_${queue} WHERE msg_id = $1`, [young])).toBe(1)
    }
  })

  test('expired content tombstones go CONTENT_TOMBSTONE_RETENTION_DAYS after they expired; the message still answers 410', async () => {
    const t = await createTenant(sys, 'prune-tombstones')
    const [gone, kept, live] = [await messageOf(t), await messageOf(t), await messageOf(t)]
    await drainQueues(sys) // content named by a queued job is never expired
    const key = (id: string) => `${t.id}/msg/${id}`
    await sys.tiers.content.query(`UPDATE content.content_objects SET expires = now() - interval '1 minute' WHERE storage_key = ANY($1)`, [
      [key(gone), key(kept)],
    ])
    await expireDue(sys.deps, 500)
    await sys.tiers.content.query(`UPDATE content.content_objects SET expires = now() - interval '366 days' WHERE storage_key = $1`, [key(gone)])
    await sys.tiers.content.query(`UPDATE content.content_objects SET expires = now() - interval '364 days' WHERE storage_key = $1`, [key(kept)])

    await pruneAll(sys.deps)
    const stored = async (id: string) => count(sys.tiers.content, `content.content_objects WHERE storage_key = $1`, [key(id)])
    expect(await stored(gone)).toBe(0)
    expect(await stored(kept)).toBe(1)
    expect(await stored(live)).toBe(1)
    // The ref says expired on its own: 410, only without the date the tombstone kept.
    const read = await call(sys, 'GET', `/v1/messages/${gone}/content`, { token: t.key })
    expect(read.status).toBe(410)
    expect(read.body.expired_at).toBeNull()
    expect((await call(sys, 'GET', `/v1/messages/${kept}/content`, { token: t.key })).body.expired_at).not.toBeNull()
    expect((await call(sys, 'GET', `/v1/messages/${live}/content`, { token: t.key })).status).toBe(200)
  })

  test('audit log rows older than AUDIT_LOG_RETENTION_DAYS go; younger ones stay', async () => {
    const insert = (action: string, days: number) =>
      sys.tiers.oltp.query(`INSERT INTO oltp.audit_log (tenant_id, actor, action, created) VALUES ('${NO_TENANT}', 'test', $1, now() - make_interval(days => $2))`, [
        action,
        days,
      ])
    await insert('prune.old', 401)
    await insert('prune.young', 399)
    await pruneAll(sys.deps)
    expect(await count(sys.tiers.oltp, `oltp.audit_log WHERE action = 'prune.old'`)).toBe(0)
    expect(await count(sys.tiers.oltp, `oltp.audit_log WHERE action = 'prune.young'`)).toBe(1)
  })

  test('webhook receipts older than WEBHOOK_RECEIPT_RETENTION_DAYS go; younger ones stay', async () => {
    const t = await createTenant(sys)
    const insert = (eventId: string, days: number) =>
      sys.tiers.oltp.query(
        `INSERT INTO oltp.webhook_receipts (tenant_id, provider, event_id, created) VALUES ($1, 'mailgun', $2, now() - make_interval(days => $3))`,
        [t.id, eventId, days],
      )
    await insert('old', 31)
    await insert('young', 29)
    await pruneAll(sys.deps)
    expect(await count(sys.tiers.oltp, `oltp.webhook_receipts WHERE tenant_id = $1 AND event_id = 'old'`, [t.id])).toBe(0)
    expect(await count(sys.tiers.oltp, `oltp.webhook_receipts WHERE tenant_id = $1 AND event_id = 'young'`, [t.id])).toBe(1)
  })

  test('idempotency keys go a day after they were first used; younger ones stay, so their retries still replay', async () => {
    const t = await createTenant(sys)
    const insert = (key: string, hours: number) =>
      sys.tiers.oltp.query(
        `INSERT INTO oltp.idempotency_keys (tenant_id, key_hash, request_hash, state, claim_id, claimed_until, status, created)
         VALUES ($1, md5($2) || md5($2), repeat('0', 64), 'done', gen_random_uuid(), now(), 201, now() - make_interval(hours => $3))`,
        [t.id, key, hours],
      )
    await insert('old', 25)
    await insert('young', 23)
    const runs = await pruneAll(sys.deps)
    expect(runs[0]!.deleted.idempotency_keys).toBeGreaterThanOrEqual(1)
    const kept = await sys.tiers.oltp.query<{ key_hash: string }>(`SELECT key_hash FROM oltp.idempotency_keys WHERE tenant_id = $1`, [t.id])
    const [young] = await sys.tiers.oltp.query<{ h: string }>(`SELECT md5('young') || md5('young') AS h`)
    expect(kept.map((k) => k.key_hash)).toEqual([young!.h])
  })

  test('outbox rows a relay left are reported, never deleted', async () => {
    // Inserted and removed here, without a relay pass in between: on separate databases the relay would try to send it.
    const [row] = await sys.tiers.oltp.query<{ id: string }>(
      `INSERT INTO oltp.outbox (queue, payload, created) VALUES ('prune_test', '{}', now() - interval '2 hours') RETURNING id`,
    )
    try {
      const [first] = await pruneAll(sys.deps)
      expect(first!.outbox!.stale).toBeGreaterThanOrEqual(1)
      expect(Date.now() - first!.outbox!.oldest!.getTime()).toBeGreaterThan(2 * 3600_000 - 60_000)
      expect(await count(sys.tiers.oltp, `oltp.outbox WHERE id = $1`, [row!.id])).toBe(1)
    } finally {
      await sys.tiers.oltp.query(`DELETE FROM oltp.outbox WHERE id = $1`, [row!.id])
    }
  })

  test('events past the horizon go, younger ones and every count stay, and a copy of a pruned event is refused, not counted twice', async () => {
    const t = await createTenant(sys, 'prune-events')
    const [m1, m2] = [await messageOf(t), await messageOf(t)]
    const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString()
    const post = (s: TestSystem, events: object[]) => call(s, 'POST', '/v1/events', { token: t.key, body: { events } })
    const accepted = await post(sys, [
      { event_id: 'old-open', message_id: m1, type: 'opened', occurred_at: ago(399) },
      { event_id: 'young-open', message_id: m2, type: 'opened', occurred_at: ago(1) },
    ])
    expect(accepted.body.accepted).toEqual(['old-open', 'young-open'])
    await drainQueues(sys)
    const mailbox = async () => (await call(sys, 'GET', `/v1/analytics/email-accounts/${t.accountId}`, { token: t.key })).body
    expect(await mailbox()).toMatchObject({ sent: 2, opened: 2, unique_opened: 2 })
    const [applied] = await sys.tiers.queue.query<{ message: unknown }>(
      `SELECT message FROM pgmq.a_events WHERE message::text LIKE '%"old-open"%' ORDER BY msg_id DESC LIMIT 1`,
    )
    expect(applied).toBeDefined()

    // 32 days on, old-open occurred 431 days ago: past EVENT_MAX_AGE_DAYS (400) + the margin (30) + an hour.
    const month = later(32)
    await pruneAll(month.deps)
    const stored = (id: string) => count(sys.tiers.analytics, `analytics.events WHERE tenant_id = $1 AND event_id = $2`, [t.id, id])
    expect(await stored('old-open')).toBe(0)
    expect(await stored('young-open')).toBe(1)
    expect(await mailbox()).toMatchObject({ sent: 2, opened: 2, unique_opened: 2 }) // rollups stay

    // The queue delivers the applied chunk again (a requeued dead letter, say): the pruned event is
    // refused, split off and dead-lettered alone; the other one is a duplicate and changes nothing.
    await emptyQueues(sys.tiers)
    await send(sys.tiers.queue, QUEUES.events, applied!.message)
    await drainQueues(month)
    expect(await stored('old-open')).toBe(0)
    expect(await mailbox()).toMatchObject({ opened: 2, unique_opened: 2 })
    const dead = await sys.tiers.queue.query<{ message: any }>(
      `SELECT message FROM pgmq.q_dead_letters WHERE message->'message'->'payload'->'events' @> $1::jsonb`,
      [JSON.stringify([{ tenant_id: t.id }])],
    )
    expect(dead.map((d) => d.message.message.payload.events.map((e: { event_id: string }) => e.event_id))).toEqual([['old-open']])
    // The provider sends it again: the API refuses it, being over EVENT_MAX_AGE_DAYS old.
    const again = await post(month, [{ event_id: 'old-open', message_id: m1, type: 'opened', occurred_at: ago(399) }])
    expect(again.body.rejected).toEqual([expect.objectContaining({ event_id: 'old-open', status: 422, field: 'occurred_at' })])
    // A new open of the message whose first open was pruned is still not a second unique (message_firsts stays).
    await post(month, [{ event_id: 'new-open', message_id: m1, type: 'opened', occurred_at: new Date(month.deps.clock.now()).toISOString() }])
    await drainQueues(month)
    expect(await mailbox()).toMatchObject({ opened: 3, unique_opened: 2 })
  })

  test('batches are bounded: a prune of more rows than a batch takes several chained jobs', async () => {
    await sys.tiers.queue.exec(`TRUNCATE queue.job_logs`)
    await insertJobLogs('prune.batched', 7, 20)
    const runs = await pruneAll(sys.deps, 3)
    expect(runs.map((r) => r.deleted.job_logs)).toEqual([3, 3, 1])
    expect(runs.slice(1).every((r) => r.outbox === undefined && Object.keys(r.deleted).every((k) => k in runs[runs.indexOf(r) - 1]!.resume))).toBe(true)

    // Through the queue: each job prunes one batch and enqueues the next while a batch is full.
    await emptyQueues(sys.tiers)
    await sys.tiers.queue.exec(`TRUNCATE queue.job_logs`)
    await insertJobLogs('prune.batched', 7, 20)
    await enqueue(sys.tiers.queue, 'maintenance.prune', { batch_size: 3 })
    await runVisible(sys)
    expect(await count(sys.tiers.queue, `queue.job_logs WHERE job = 'prune.batched'`)).toBe(0)
    expect(await count(sys.tiers.queue, `queue.job_logs WHERE job = 'maintenance.prune' AND outcome = 'succeeded'`)).toBe(3)
  })

  test('is scheduled once per maintenance slot, however many workers tick', async () => {
    await emptyQueues(sys.tiers)
    await sys.tiers.queue.exec(`TRUNCATE queue.schedules`)
    const clock = new TestClock()
    const schedulers = Array.from({ length: 3 }, () => new Scheduler(makeDeps(sys.tiers, { config, clock }), maintenance(config)))
    const tickAll = async () => (await Promise.all(schedulers.map((s) => s.tick()))).flat().filter((j) => j === 'maintenance.prune')
    expect(await tickAll()).toEqual(['maintenance.prune'])
    expect(await tickAll()).toEqual([])
    clock.advance(config.MAINTENANCE_INTERVAL_S * 1000)
    expect(await tickAll()).toEqual(['maintenance.prune'])
    const queued = await sys.tiers.queue.query<{ slot: string }>(
      `SELECT message->>'slot' AS slot FROM pgmq.q_jobs WHERE message->>'job' = 'maintenance.prune' ORDER BY 1`,
    )
    expect(queued).toHaveLength(2)
    expect(new Set(queued.map((q) => q.slot)).size).toBe(2)
    await emptyQueues(sys.tiers)
  })
})
