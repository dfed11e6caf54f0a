/**
 * Events a hostile or broken client sends: a date out of range is refused alone and cannot take
 * the batch's other events down, neither at the API nor (injected past it) in the worker; a
 * client event id of the server's own form cannot take a server event's place.
 */
import { describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { drainQueues, runVisible } from '../support/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import type { AnalyticsEvent } from '../../src/tiers/analytics/events.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const REPLY = join(import.meta.dir, '..', 'fixtures', 'inbound', 'reply-plain.eml')
const DAY = 86_400_000

async function setup(name: string) {
  const t = await createTenant(sys, name)
  const campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name } })).body.id
  const m = (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { campaign_id: campaignId }) })).body
  return { ...t, campaignId, message: m }
}

const report = async (t: TenantFixture & { campaignId: string }) =>
  (await call(sys, 'GET', `/v1/analytics/campaigns/${t.campaignId}`, { token: t.key })).body

/** Hides the tenant's message.created jobs, so the test decides what the worker applies first. */
async function holdServerEvents() {
  await sys.deps.outbox.kick()
  await sys.tiers.queue.exec(`UPDATE pgmq.q_events SET vt = now() + interval '1 hour' WHERE message->>'job' = 'message.created'`)
}

describe('dates out of range', () => {
  test('are refused one by one with 422 naming occurred_at; the batch’s other events are counted', async () => {
    const t = await setup('window')
    const now = Date.now()
    const opened = (id: string, at: string) => ({ event_id: id, message_id: t.message.id, type: 'opened', occurred_at: at })
    const r = await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: {
        events: [
          opened('ok-1', new Date(now - 60_000).toISOString()),
          opened('year-0', '0000-01-01T00:00:00Z'), // no such year in PostgreSQL
          opened('year-10000', '9999-12-31T23:00:00-05:00'), // year 10000 once in UTC
          opened('too-old', new Date(now - 401 * DAY).toISOString()),
          opened('ahead', new Date(now + 2 * 3600_000).toISOString()),
          opened('ok-2', new Date(now - 399 * DAY).toISOString()),
        ],
      },
    })
    expect(r.status).toBe(202)
    expect(r.body.accepted).toEqual(['ok-1', 'ok-2'])
    expect(r.body.rejected.map((x: any) => [x.event_id, x.status, x.field])).toEqual([
      ['year-0', 422, 'occurred_at'],
      ['year-10000', 422, 'occurred_at'],
      ['too-old', 422, 'occurred_at'],
      ['ahead', 422, 'occurred_at'],
    ])
    await drainQueues(sys)
    expect(await report(t)).toMatchObject({ sent: 1, opened: 2 })
  })

  test('one the database refuses, injected past the API, is dead-lettered alone; the other 99 are counted', async () => {
    const t = await setup('poison')
    const event = (i: number, at = new Date().toISOString()): AnalyticsEvent => ({
      tenant_id: t.id,
      event_id: `e-${i}`,
      message_id: t.message.id,
      type: 'clicked',
      bounce_type: null,
      occurred_at: at,
      email_account_id: t.accountId,
      campaign_id: t.campaignId,
      sequence_step_id: null,
      metadata: null,
    })
    const events = Array.from({ length: 100 }, (_, i) => (i === 37 ? event(i, '0000-01-01T00:00:00Z') : event(i)))
    await enqueue(sys.tiers.queue, 'events.apply', { events })
    await drainQueues(sys) // retries until the bad one runs out of attempts

    expect(await report(t)).toMatchObject({ clicked: 99, unique_clicked: 1 })
    const dead = await sys.tiers.queue.query<{ message: any }>(
      `SELECT message FROM pgmq.q_dead_letters WHERE message->'message'->'payload'->'events' @> $1::jsonb`,
      [JSON.stringify([{ tenant_id: t.id }])],
    )
    expect(dead.map((d) => d.message.message.payload.events.map((e: AnalyticsEvent) => e.event_id))).toEqual([['e-37']])
    // Refused again on every try: it gets two attempts, not ten (minutes of its tenant's as_of).
    expect(dead[0]!.message.message.max_attempts).toBe(2)
  }, 60_000)
})

describe('event ids of the server’s form', () => {
  test('a client `<message id>:sent` is refused and cannot suppress the message’s own sent event', async () => {
    const t = await setup('sent-id')
    await holdServerEvents()
    const r = await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: { events: [{ event_id: `${t.message.id}:sent`, message_id: t.message.id, type: 'opened', occurred_at: new Date().toISOString() }] },
    })
    expect(r.status).toBe(202)
    expect(r.body).toMatchObject({ accepted: [], rejected: [{ event_id: `${t.message.id}:sent`, status: 422, field: 'event_id' }] })
    await runVisible(sys) // whatever got through is applied before the server's event
    await drainQueues(sys)
    expect(await report(t)).toMatchObject({ sent: 1, opened: 0 })
  })

  test('a client `<inbound message id>:replied` is refused and cannot suppress the reply it names', async () => {
    const t = await setup('reply-id')
    await call(sys, 'POST', `/v1/messages`, {
      token: t.key,
      body: messageBody(t.accountId, { campaign_id: t.campaignId, rfc822_message_id: '<out-1@acme.test>' }),
    })
    const inbound = await call(sys, 'POST', `/v1/inbound?email_account_id=${t.accountId}`, {
      token: t.key,
      rawBody: await readFile(REPLY),
      headers: { 'content-type': 'message/rfc822' },
    })
    expect(inbound.status).toBe(201)
    await holdServerEvents()
    const id = `${inbound.body.id}:replied`
    const now = new Date().toISOString()
    const r = await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: {
        events: [
          { event_id: id, message_id: inbound.body.parent_message_id, type: 'opened', occurred_at: now },
          { event_id: 'provider-open-1', message_id: inbound.body.parent_message_id, type: 'opened', occurred_at: now },
        ],
      },
    })
    expect(r.body.accepted).toEqual(['provider-open-1'])
    expect(r.body.rejected).toEqual([{ event_id: id, status: 422, field: 'event_id', detail: expect.stringContaining('reserved') }])
    await runVisible(sys)
    await drainQueues(sys)
    expect(await report(t)).toMatchObject({ sent: 2, replied: 1, unique_replied: 1, opened: 1 })
  })
})
