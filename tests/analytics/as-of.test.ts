/**
 * as_of is per tenant: an event stuck in the queue holds back its own tenant's as_of, from the
 * moment it was accepted (even once split off its chunk), and no other tenant's.
 */
import { expect, test } from 'bun:test'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { depth, drainQueues, runVisible } from '../support/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import type { AnalyticsEvent } from '../../src/tiers/analytics/events.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { sameDatabase } from '../../src/db/tiers.ts'
import { engine } from '../support/databases.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))

async function setup(name: string) {
  const t = await createTenant(sys, name)
  const campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name } })).body.id
  const m = (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { campaign_id: campaignId }) })).body
  return { ...t, campaignId, messageId: m.id as string }
}

type Setup = Awaited<ReturnType<typeof setup>>

const report = async (t: Setup) => (await call(sys, 'GET', `/v1/analytics/campaigns/${t.campaignId}`, { token: t.key })).body

const click = (t: Setup, id: string, at: string): AnalyticsEvent => ({
  tenant_id: t.id,
  event_id: id,
  message_id: t.messageId,
  type: 'clicked',
  bounce_type: null,
  occurred_at: at,
  email_account_id: t.accountId,
  campaign_id: t.campaignId,
  sequence_step_id: null,
  metadata: null,
})

test('a stuck event holds back its own tenant’s as_of, from when it was accepted, and no other tenant’s', async () => {
  const a = await setup('stuck-a')
  const b = await setup('stuck-b')
  await drainQueues(sys)

  // A's chunk, accepted ten minutes ago: one good event and one the database refuses.
  const acceptedAt = new Date(Date.now() - 600_000)
  const now = new Date().toISOString()
  await enqueue(sys.tiers.queue, 'events.apply', {
    events: [click(a, 'good', now), click(a, 'bad', '0000-01-01T00:00:00Z')],
    accepted_at: acceptedAt.toISOString(),
  })
  await sys.tiers.queue.exec(`UPDATE pgmq.q_events SET enqueued_at = now() - interval '10 minutes'`)
  await runVisible(sys) // the good one is applied; the bad one fails and waits for its retry
  expect(await depth(sys.tiers, QUEUES.events)).toBe(1)

  const bAcceptedAt = Date.now()
  const posted = await call(sys, 'POST', '/v1/events', {
    token: b.key,
    body: { events: [{ event_id: 'o1', message_id: b.messageId, type: 'opened', occurred_at: now }] },
  })
  expect(posted.status).toBe(202)
  await runVisible(sys) // B's event, then the refresh it schedules

  const bReport = await report(b)
  expect(bReport).toMatchObject({ sent: 1, opened: 1 })
  expect(Date.parse(bReport.as_of)).toBeGreaterThanOrEqual(bAcceptedAt - 1_000)
  expect(bReport.freshness_seconds).toBeLessThan(60)

  const aReport = await report(a)
  expect(aReport).toMatchObject({ sent: 1, clicked: 1 })
  expect(Date.parse(aReport.as_of)).toBeLessThanOrEqual(acceptedAt.getTime())
  expect(aReport.freshness_seconds).toBeGreaterThanOrEqual(600)
})

test.skipIf(engine === 'pglite')('a job waiting in the outbox holds back its own tenant’s as_of and no other tenant’s', async () => {
  // Separate OLTP and queue databases (the PostgreSQL pass): events reach the queue through the outbox.
  expect(sameDatabase(sys.tiers.oltp, sys.tiers.queue)).toBe(false)
  const a = await setup('outbox-a')
  const b = await setup('outbox-b')
  await drainQueues(sys)
  // A row of A's, written ten minutes ago and held by a relay (claimed for an hour): not moved meanwhile.
  const [row] = await sys.tiers.oltp.query<{ id: string; created: Date }>(
    `INSERT INTO oltp.outbox (tenant_id, queue, payload, created, claimed_until)
     VALUES ($1, 'as_of_test', '{}', now() - interval '10 minutes', now() + interval '1 hour') RETURNING id::text AS id, created`,
    [a.id],
  )
  try {
    expect(Date.parse((await report(a)).as_of)).toBeLessThanOrEqual(row!.created.getTime())
    expect((await report(b)).freshness_seconds).toBeLessThan(60)
  } finally {
    await sys.tiers.oltp.query(`DELETE FROM oltp.outbox WHERE tenant_id = $1 AND id = $2`, [a.id, row!.id])
  }
  expect((await report(a)).freshness_seconds).toBeLessThan(60)
})
