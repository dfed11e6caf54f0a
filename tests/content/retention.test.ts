/**
 * Retention: a per-tenant policy, expiry set at write time and recomputed on change, expiry in
 * bounded batches that leaves the ref (saying so) and answers 410 with the date, and never touches
 * content a queued job still names.
 */
import { describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { drainQueues, runVisible } from '../support/queues.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { DEFAULT_POLICY } from '../../src/tiers/content/retention.ts'

const sys = useSystem()
const DAY = 86_400_000

/** Runs queued events and jobs until none is visible (a message's own pending event protects its content). */
const runJobs = () => runVisible(sys)

async function postMessage(t: TenantFixture, extra: Record<string, unknown> = {}) {
  const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, extra) })
  return r.body as { id: string; content_storage_key: string }
}

/** Moves a body's expiry into the past, as if its retention had run out. */
const age = (key: string) => sys.tiers.content.query(`UPDATE content.content_objects SET expires = now() - interval '1 minute' WHERE storage_key = $1`, [key])

describe('retention policy', () => {
  test('defaults until set; invalid values are 422 naming the field', async () => {
    const t = await createTenant(sys, 'ret-policy')
    expect((await call(sys, 'GET', '/v1/retention-policy', { token: t.key })).body).toEqual(DEFAULT_POLICY)
    const bad = await call(sys, 'PUT', '/v1/retention-policy', { token: t.key, body: { ...DEFAULT_POLICY, content_ttl_days: { ...DEFAULT_POLICY.content_ttl_days, outbound: 0 } } })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('content_ttl_days.outbound')
    const policy = { content_ttl_days: { outbound: 30, inbound: null, transactional: 7, notification: 1 }, attachments_ttl_days: 14, archive_after_days: null }
    expect((await call(sys, 'PUT', '/v1/retention-policy', { token: t.key, body: policy })).status).toBe(200)
    expect((await call(sys, 'GET', '/v1/retention-policy', { token: t.key })).body).toEqual(policy)
  })

  test('expiry is set at write time and recomputed when the policy changes', async () => {
    const t = await createTenant(sys, 'ret-recompute')
    const m = await postMessage(t)
    const expiresIn = async () => {
      const row = await getContentObject(sys.tiers.content, t.id, m.content_storage_key)
      return Math.round((row!.expires!.getTime() - Date.now()) / DAY)
    }
    expect(await expiresIn()).toBe(DEFAULT_POLICY.content_ttl_days.outbound!)
    await call(sys, 'PUT', '/v1/retention-policy', {
      token: t.key,
      body: { ...DEFAULT_POLICY, content_ttl_days: { ...DEFAULT_POLICY.content_ttl_days, outbound: 3 } },
    })
    await runJobs()
    expect(await expiresIn()).toBe(3)
  })
})

describe('expiry', () => {
  test('drops body and attachments, keeps the ref saying so, answers 410 with the date', async () => {
    const t = await createTenant(sys, 'ret-expire')
    const m = await postMessage(t, { attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: 'aGk=' }] })
    const detail = await call(sys, 'GET', `/v1/messages/${m.id}`, { token: t.key })
    await age(m.content_storage_key)
    await enqueue(sys.tiers.queue, 'content.expire', { batch_size: 500 })
    await runJobs()

    const content = await call(sys, 'GET', `/v1/messages/${m.id}/content`, { token: t.key })
    expect(content.status).toBe(410)
    expect(Date.parse(content.body.expired_at)).toBeLessThan(Date.now())
    expect(content.body).toMatchObject({ status: 410, content_state: 'expired' })
    expect((await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${detail.body.attachments[0].id}`, { token: t.key })).status).toBe(410)
    const list = await call(sys, 'GET', '/v1/messages', { token: t.key })
    expect(list.body.data.find((r: any) => r.id === m.id).content_state).toBe('expired')
    expect((await call(sys, 'GET', '/v1/storage', { token: t.key })).body).toMatchObject({ objects: 1, expired_objects: 1, stored_bytes: 0 })
  })

  test('content a queued job still names is never expired; the rest goes in bounded batches', async () => {
    const t = await createTenant(sys, 'ret-pending')
    const needed = await postMessage(t)
    const others = [await postMessage(t), await postMessage(t), await postMessage(t)]
    for (const m of [needed, ...others]) await age(m.content_storage_key)
    await drainQueues(sys) // nothing else queued: the batch below reads only the expiry job
    // A job still waiting to use `needed` (hidden for now, as a retry or a delayed job would be).
    await send(sys.tiers.queue, QUEUES.jobs, { job: 'future.work', payload: { message_id: needed.id } }, 3600)

    await enqueue(sys.tiers.queue, 'content.expire', { batch_size: 2 })
    const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: HANDLERS, batchSize: 1 })
    expect(await worker.runOnce(QUEUES.jobs)).toBe(1)
    const states = async () =>
      Promise.all(others.map(async (m) => (await getContentObject(sys.tiers.content, t.id, m.content_storage_key))!.content_state))
    expect((await states()).filter((s) => s === 'expired')).toHaveLength(2) // one batch of two, and a follow-up queued
    await runJobs()
    expect(await states()).toEqual(['expired', 'expired', 'expired'])
    expect((await call(sys, 'GET', `/v1/messages/${needed.id}/content`, { token: t.key })).status).toBe(200)
  })

  test('attachments go after their own TTL while the body stays', async () => {
    const t = await createTenant(sys, 'ret-attachments')
    await call(sys, 'PUT', '/v1/retention-policy', { token: t.key, body: { ...DEFAULT_POLICY, attachments_ttl_days: 1 } })
    const m = await postMessage(t, { attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: 'aGk=' }] })
    const detail = await call(sys, 'GET', `/v1/messages/${m.id}`, { token: t.key })
    const file = () => call(sys, 'GET', `/v1/messages/${m.id}/attachments/${detail.body.attachments[0].id}`, { token: t.key })
    await enqueue(sys.tiers.queue, 'content.expire', { batch_size: 500 })
    await runJobs()
    expect((await file()).status).toBe(200) // younger than a day
    await sys.tiers.content.query(`UPDATE content.attachments SET created = now() - interval '2 days' WHERE tenant_id = $1`, [t.id])
    await enqueue(sys.tiers.queue, 'content.expire', { batch_size: 500 })
    await runJobs()
    expect((await file()).status).toBe(410)
    expect((await call(sys, 'GET', `/v1/messages/${m.id}/content`, { token: t.key })).status).toBe(200)
    expect((await call(sys, 'GET', '/v1/storage', { token: t.key })).body.attachments).toMatchObject({ count: 1, unique_blobs: 0 })
  })
})
