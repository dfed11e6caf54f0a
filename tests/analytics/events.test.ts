/**
 * Events in, analytics out: exactly once under duplicates, redelivery and a crash between the
 * analytics commit and the archive; uniques, bounces and auto-replies counted apart; out-of-order
 * events land on their own day; another tenant's messages and campaigns answer 404.
 */
import { describe, expect, test } from 'bun:test'
import { testConfig, makeDeps, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { faultyDb } from '../support/faults.ts'
import { rowCounts } from '../support/databases.ts'
import { tiersFrom } from '../../src/db/tiers.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { read, send, setVt } from '../../src/tiers/queue/pgmq.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))

interface Setup extends TenantFixture {
  campaignId: string
  stepIds: string[]
  messages: string[]
}

async function setup(name: string, messages = 3): Promise<Setup> {
  const t = await createTenant(sys, name)
  const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name } })
  const stepIds: string[] = []
  for (const n of [1, 2]) {
    stepIds.push((await call(sys, 'POST', `/v1/campaigns/${campaign.body.id}/steps`, { token: t.key, body: { step_number: n } })).body.id)
  }
  const ids: string[] = []
  for (let i = 0; i < messages; i++) {
    const m = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { sequence_step_id: stepIds[i % 2] }),
    })
    ids.push(m.body.id)
  }
  return { ...t, campaignId: campaign.body.id, stepIds, messages: ids }
}

const event = (id: string, message: string, type: string, at = '2026-11-20T10:00:00Z', extra: object = {}) => ({
  event_id: id,
  message_id: message,
  type,
  occurred_at: at,
  ...extra,
})

const post = (s: Setup, events: unknown[]) => call(sys, 'POST', '/v1/events', { token: s.key, body: { events } })
const campaign = (s: Setup, q = '') => call(sys, 'GET', `/v1/analytics/campaigns/${s.campaignId}${q}`, { token: s.key })

describe('events API', () => {
  test('accepts a tenant’s events, rejects another tenant’s message per event, and counts each once', async () => {
    const a = await setup('ev-a')
    const b = await setup('ev-b', 1)
    const events = [
      event('o1', a.messages[0]!, 'opened'),
      event('o1', a.messages[0]!, 'opened'), // duplicate in the batch
      event('o2', a.messages[0]!, 'opened', '2026-11-20T11:00:00Z'), // a second open of the same message
      event('c1', a.messages[1]!, 'clicked'),
      event('x1', b.messages[0]!, 'opened'), // B's message
      event('x2', '01900000-0000-7000-8000-000000000000', 'opened'),
    ]
    const r = await post(a, events)
    expect(r.status).toBe(202)
    expect(r.body.accepted).toEqual(['o1', 'o1', 'o2', 'c1'])
    expect(r.body.rejected).toEqual([
      { event_id: 'x1', status: 404, detail: expect.stringContaining('not found') },
      { event_id: 'x2', status: 404, detail: expect.stringContaining('not found') },
    ])
    await drainQueues(sys)
    // Redelivered by the provider, and redelivered by the queue: nothing changes.
    await post(a, events.slice(0, 4))
    await drainQueues(sys)

    const report = await campaign(a)
    expect(report.status).toBe(200)
    expect(report.body).toMatchObject({ sent: 3, opened: 2, unique_opened: 1, clicked: 1, unique_clicked: 1 })
    expect(report.body.open_rate).toBeCloseTo(1 / 3, 4)
    expect(Date.parse(report.body.as_of)).toBeGreaterThan(Date.now() - 60_000)
    expect(report.body.freshness_seconds).toBeGreaterThanOrEqual(0)

    const steps = await call(sys, 'GET', `/v1/analytics/campaigns/${a.campaignId}/steps`, { token: a.key })
    expect(steps.body.data.map((s: any) => [s.step_number, s.sent, s.opened, s.clicked])).toEqual([
      [1, 2, 2, 0],
      [2, 1, 0, 1],
    ])
    const mailbox = await call(sys, 'GET', `/v1/analytics/email-accounts/${a.accountId}`, { token: a.key })
    expect(mailbox.body).toMatchObject({ sent: 3, opened: 2, unique_opened: 1 })
    // B's message got nothing from A's batch.
    expect((await call(sys, 'GET', `/v1/analytics/campaigns/${b.campaignId}`, { token: b.key })).body.opened).toBe(0)
  })

  test('another tenant’s campaign or mailbox answers 404; bad input 422 naming the field, nothing queued', async () => {
    const a = await setup('ev-c', 1)
    const b = await setup('ev-d', 1)
    for (const path of [`/v1/analytics/campaigns/${a.campaignId}`, `/v1/analytics/campaigns/${a.campaignId}/steps`, `/v1/analytics/email-accounts/${a.accountId}`]) {
      expect((await call(sys, 'GET', path, { token: b.key })).status).toBe(404)
    }
    const before = await rowCounts(sys)
    const cases: [unknown, string][] = [
      [{ events: [event('e', a.messages[0]!, 'teleported')] }, 'events.0.type'],
      [{ events: [event('e', a.messages[0]!, 'opened', 'yesterday')] }, 'events.0.occurred_at'],
      [{ events: [] }, 'events'],
      [{ events: Array.from({ length: 1001 }, (_, i) => event(`e${i}`, a.messages[0]!, 'opened')) }, 'events'],
      [{ events: [event('e', a.messages[0]!, 'bounced', undefined, { bounce_type: 'medium' })] }, 'events.0.bounce_type'],
      [{ events: [event('e', a.messages[0]!, 'opened', undefined, { metadata: { ua: 'x\u0000' } })] }, 'events.0.metadata.ua'],
    ]
    for (const [body, field] of cases) {
      const r = await call(sys, 'POST', '/v1/events', { token: a.key, body })
      expect(r.status).toBe(422)
      expect(r.body.errors.map((e: any) => e.field)).toContain(field)
    }
    const range = await campaign(a, '?from=2026-11-02&to=2026-11-01')
    expect(range.status).toBe(422)
    expect(await rowCounts(sys)).toEqual(before)
  })
})

describe('counting', () => {
  test('bounces split hard/soft, auto-replies apart from replies, unique replies per message', async () => {
    const s = await setup('kinds', 2)
    await post(s, [
      event('b1', s.messages[0]!, 'bounced', undefined, { bounce_type: 'soft' }),
      event('b2', s.messages[1]!, 'bounced', undefined, { metadata: { bounce_type: 'hard' } }),
      event('r1', s.messages[0]!, 'replied'),
      event('r2', s.messages[0]!, 'replied', '2026-11-21T10:00:00Z'),
      event('a1', s.messages[1]!, 'auto_replied'),
      event('d1', s.messages[0]!, 'delivered'),
      event('s1', s.messages[0]!, 'sent'), // the provider confirms what the write path already counted
      event('u1', s.messages[1]!, 'unsubscribed'),
      event('k1', s.messages[1]!, 'complained'),
    ])
    await drainQueues(sys)
    expect((await campaign(s)).body).toMatchObject({
      sent: 2,
      bounced: 2,
      hard_bounced: 1,
      soft_bounced: 1,
      replied: 2,
      unique_replied: 1,
      auto_replied: 1,
      delivered: 1,
      unsubscribed: 1,
      complained: 1,
      bounce_rate: 1,
      reply_rate: 0.5,
    })
  })

  test('an earlier open arriving later moves the unique open to its own day', async () => {
    const s = await setup('order', 1)
    await post(s, [event('late', s.messages[0]!, 'opened', '2026-11-22T09:00:00Z')])
    await drainQueues(sys)
    await post(s, [event('early', s.messages[0]!, 'opened', '2026-11-20T09:00:00Z')])
    await drainQueues(sys)
    const day = async (d: string) => (await campaign(s, `?from=${d}&to=${d}`)).body
    expect(await day('2026-11-20')).toMatchObject({ opened: 1, unique_opened: 1 })
    expect(await day('2026-11-22')).toMatchObject({ opened: 1, unique_opened: 0 })
    expect((await campaign(s)).body).toMatchObject({ opened: 2, unique_opened: 1 })
  })

  test('a worker that dies after the analytics commit but before the archive changes nothing on redelivery', async () => {
    const s = await setup('crash', 1)
    await drainQueues(sys)
    await post(s, [event('once', s.messages[0]!, 'clicked')])
    // The settle call (archive + job log) fails as if the process died right after the commit.
    const queue = faultyDb(sys.tiers.queue, (q) => q.includes('queue.complete_jobs'), 'killed before archive')
    const dying = new Worker(makeDeps(tiersFrom({ ...sys.tiers, queue })), { queues: [QUEUES.events], jobs: HANDLERS })
    await expect(dying.runOnce(QUEUES.events)).rejects.toThrow('killed before archive')
    // The message is still there; make it visible now instead of waiting out its timeout.
    const pending = await sys.tiers.queue.query<{ msg_id: string }>(`SELECT msg_id FROM pgmq.q_events`)
    expect(pending).toHaveLength(1)
    await setVt(sys.tiers.queue, QUEUES.events, pending[0]!.msg_id, 0)
    await drainQueues(sys)
    expect((await campaign(s)).body).toMatchObject({ clicked: 1, unique_clicked: 1 })
    // And a queue-level duplicate of an already-applied message is harmless too.
    const [archived] = await sys.tiers.queue.query<{ message: unknown }>(
      `SELECT message FROM pgmq.a_events WHERE message->>'job' = 'events.apply' ORDER BY msg_id DESC LIMIT 1`,
    )
    await send(sys.tiers.queue, QUEUES.events, archived!.message)
    await drainQueues(sys)
    expect((await campaign(s)).body).toMatchObject({ clicked: 1, unique_clicked: 1 })
    expect(await read(sys.tiers.queue, QUEUES.events, 0, 10)).toEqual([])
  })
})
