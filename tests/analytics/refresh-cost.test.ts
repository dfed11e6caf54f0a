/**
 * The refresh recomputes the view rows whose rollups changed, not the history: after a month of
 * events, one more event costs the refresh its day's campaign, step and mailbox rows. (How long
 * that takes against how much history is measured by `npm run bench`, not asserted here.)
 */
import { expect, test } from 'bun:test'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { refreshViews } from '../../src/services/analytics.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const DAY = 86_400_000

test('one more event after a month of history refreshes three rows: its day’s campaign, step and mailbox', async () => {
  const t = await createTenant(sys, 'refresh-cost')
  const campaign = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'r' } })).body.id
  const step = (await call(sys, 'POST', `/v1/campaigns/${campaign}/steps`, { token: t.key, body: { step_number: 1 } })).body.id
  const m = (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { sequence_step_id: step }) })).body
  const opened = (id: string, at: number) => ({ event_id: id, message_id: m.id, type: 'opened', occurred_at: new Date(at).toISOString() })
  const post = (events: unknown[]) => call(sys, 'POST', '/v1/events', { token: t.key, body: { events } })

  const now = Date.now()
  expect((await post(Array.from({ length: 30 }, (_, i) => opened(`day-${i}`, now - (i + 1) * DAY)))).status).toBe(202)
  await drainQueues(sys)

  expect((await post([opened('today', now)])).status).toBe(202)
  const worker = new Worker(sys.deps, { queues: [QUEUES.events], jobs: HANDLERS })
  expect(await worker.runOnce(QUEUES.events)).toBe(1)
  expect((await refreshViews(sys.deps)).rows).toBe(3)
  expect((await refreshViews(sys.deps)).rows).toBe(0)

  const report = (await call(sys, 'GET', `/v1/analytics/campaigns/${campaign}`, { token: t.key })).body
  expect(report).toMatchObject({ sent: 1, opened: 31, unique_opened: 1 })
  const steps = (await call(sys, 'GET', `/v1/analytics/campaigns/${campaign}/steps`, { token: t.key })).body
  expect(steps.data[0]).toMatchObject({ sequence_step_id: step, opened: 31 })
  const mailbox = (await call(sys, 'GET', `/v1/analytics/email-accounts/${t.accountId}`, { token: t.key })).body
  expect(mailbox).toMatchObject({ sent: 1, opened: 31 })
})
