/**
 * The views' refresh: debounced, scheduled once per burst, never lost, and the as_of it reports
 * never claims an event the views do not yet count.
 */
import { beforeEach, describe, expect, test } from 'bun:test'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { depth, emptyQueues, revealAll } from '../support/queues.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { read } from '../../src/tiers/queue/pgmq.ts'
import { scheduleOverdueRefresh } from '../../src/services/analytics.ts'
import { getRefreshState } from '../../src/tiers/analytics/refresh.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '30' }))
const workers = () => new Worker(sys.deps, { queues: [QUEUES.events, QUEUES.jobs], jobs: HANDLERS })

describe('refresh and as_of', () => {
  // Each test counts queue messages and reads as_of, so each starts from empty queues and views
  // that were never refreshed.
  beforeEach(async () => {
    await sys.deps.outbox.kick()
    await emptyQueues(sys.tiers)
    await sys.tiers.analytics.exec(
      `UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL, as_of = NULL, refreshed_at = NULL, duration_ms = NULL`,
    )
  })

  test('one debounced refresh per burst; as_of covers everything accepted before it', async () => {
    const t = await createTenant(sys, 'fresh')
    const campaign = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'f' } })).body.id
    const m = (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { campaign_id: campaign }) })).body
    const worker = workers()
    const report = async () => (await call(sys, 'GET', `/v1/analytics/campaigns/${campaign}`, { token: t.key })).body

    const acceptedAt = Date.now()
    await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: { events: [{ event_id: 'o1', message_id: m.id, type: 'opened', occurred_at: new Date().toISOString() }] },
    })
    await sys.deps.outbox.kick() // separate databases: the message's event may still be in the outbox
    expect(await worker.runOnce(QUEUES.events)).toBe(2) // message.created and the open
    // Applied but not yet visible: the views are stale and were never refreshed.
    expect(await report()).toMatchObject({ sent: 0, opened: 0, as_of: null, freshness_seconds: null })
    // Exactly one refresh is scheduled, hidden for the debounce (30 s here: long enough that only
    // revealing it, never waiting, makes it run).
    expect(await depth(sys.tiers, QUEUES.jobs)).toBe(1)
    expect(await read(sys.tiers.queue, QUEUES.jobs, 0, 10)).toEqual([])

    await revealAll(sys.tiers, QUEUES.jobs) // the debounce has passed
    expect(await worker.runOnce(QUEUES.jobs)).toBe(1)
    const after = await report()
    expect(after).toMatchObject({ sent: 1, opened: 1, unique_opened: 1 })
    expect(Date.parse(after.as_of)).toBeGreaterThanOrEqual(acceptedAt - 1_000)
    expect(after.freshness_seconds).toBeLessThan(30)

    // An event accepted but not applied yet holds as_of back to when it was accepted.
    const pendingAt = Date.now()
    await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: { events: [{ event_id: 'c1', message_id: m.id, type: 'clicked', occurred_at: new Date().toISOString() }] },
    })
    const held = await report()
    expect(held.clicked).toBe(0)
    expect(Date.parse(held.as_of)).toBeLessThanOrEqual(pendingAt + 1_000)
    const [oldest] = await sys.tiers.queue.query<{ enqueued_at: Date }>(`SELECT min(enqueued_at) AS enqueued_at FROM pgmq.q_events`)
    expect(Date.parse(held.as_of)).toBe(oldest!.enqueued_at.getTime())
  })

  test('a refresh whose job was lost is scheduled again by the periodic check', async () => {
    const t = await createTenant(sys, 'lost')
    await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
    const worker = workers()
    await sys.deps.outbox.kick()
    expect(await worker.runOnce(QUEUES.events)).toBe(1)
    // The process died before its refresh job was enqueued: dirty, scheduled long ago, no job.
    await emptyQueues(sys.tiers)
    await sys.tiers.analytics.exec(`UPDATE analytics.refresh_state SET scheduled_at = now() - interval '1 hour'`)
    expect(await scheduleOverdueRefresh(sys.deps)).toBe(true)
    expect(await scheduleOverdueRefresh(sys.deps)).toBe(false) // once
    expect(await depth(sys.tiers, QUEUES.jobs)).toBe(1)
    await worker.runOnce(QUEUES.jobs)
    const state = await getRefreshState(sys.tiers.analytics)
    expect(state.dirty_since).toBeNull()
    expect(state.refreshed_at).not.toBeNull()
  })
})
