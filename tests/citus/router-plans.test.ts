/**
 * On a Citus cluster every hot query is a single-shard router query. The API is driven through
 * its operations (writes, fetches, listings, analytics reads) with the OLTP and content tiers
 * recording each statement they are sent; each is then EXPLAINed on the cluster, and a plan that
 * sends work to more than one shard fails the test, naming the operation and the statement.
 * Cross-tenant operator reads may fan out: they are driven too, and the ones that do are listed
 * (README, "Running on a Citus cluster"), so a hot query cannot hide among them.
 *
 * Runs when TEST_CITUS_DIR names a running cluster (the Citus pass of .ci/run).
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { decorateDb } from '../../src/db/decorate.ts'
import { OutboxRelay } from '../../src/services/outbox.ts'
import { createApp } from '../../src/http/app.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import { tiersFrom } from '../../src/db/tiers.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { TEST_CITUS_DIR, truncateAll } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { ADMIN_TOKEN, makeDeps, testDatabases, type TestSystem } from '../support/system.ts'

// The shared test databases open before the leak check's snapshot, as useSystem's do.
beforeAll(async () => {
  if (TEST_CITUS_DIR) await testDatabases()
}, 120_000)
useLeakCheck()

interface Statement {
  operation: string
  tier: 'oltp' | 'content'
  text: string
  params: readonly unknown[]
}

/** A Db that notes every statement, under the operation running at the time, before sending it on. */
function recording(db: Db, tier: Statement['tier'], log: Statement[], current: () => string): Db {
  const note = (q: Queryable): Queryable => ({
    query: (text, params = []) => {
      log.push({ operation: current(), tier, text, params })
      return q.query(text, params)
    },
    exec: (text) => q.exec(text),
  })
  return decorateDb(db, note)
}

/** The shards a statement's plan sends work to: Citus's task count, 0 for a coordinator-only plan. */
async function tasksOf(db: Queryable, s: Statement): Promise<{ tasks: number; plan: string }> {
  const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${s.text}`, s.params)
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
  const counts = [...plan.matchAll(/Task Count: (\d+)/g)].map((m) => Number(m[1]))
  return { tasks: counts.length ? Math.max(...counts) : 0, plan }
}

/** Statements EXPLAIN does not take (session settings, locks on the coordinator's own tables). */
const NOT_PLANNED = /^\s*(SET|RESET|SHOW|LISTEN|UNLISTEN|NOTIFY|LOCK|SELECT pg_advisory|SELECT set_config)/i

describe.skipIf(!TEST_CITUS_DIR)('router plans on the Citus cluster', () => {
  test('every statement of the hot operations goes to one shard; the operator reads that fan out are named', async () => {
    const { tiers: real } = await testDatabases()
    await truncateAll(real)
    const log: Statement[] = []
    let operation = 'setup'
    const tiers = tiersFrom({
      ...real,
      oltp: recording(real.oltp, 'oltp', log, () => operation),
      content: recording(real.content, 'content', log, () => operation),
    })
    const deps = makeDeps(tiers)
    // The relay runs after each write's commit, beside whatever operation comes next: its statements get a name of their own.
    const RELAY = 'outbox relay'
    deps.outbox = new OutboxRelay(tiersFrom({ ...real, oltp: recording(real.oltp, 'oltp', log, () => RELAY) }), deps.log)
    const sys: TestSystem = { tiers, deps, app: createApp(deps) }
    const statuses: string[] = []
    const op = async (name: string, run: () => Promise<{ status: number }>) => {
      operation = name
      const r = await run()
      statuses.push(`${name}: ${r.status}`)
      operation = 'between'
      return r as Awaited<ReturnType<typeof call>>
    }

    const t = await createTenant(sys, 'router-a')
    await createTenant(sys, 'router-b') // a second tenant, so a missing tenant filter has rows to find
    const as = (method: string, path: string, body?: unknown) => () => call(sys, method, path, { token: t.key, body })

    // Writes.
    const campaign = await op('create campaign', as('POST', '/v1/campaigns', { name: 'Spring' }))
    const step = await op('create step', as('POST', `/v1/campaigns/${campaign.body.id}/steps`, { step_number: 1 }))
    const lead = await op('create lead', as('POST', '/v1/leads', { email: 'ada@example.com', first_name: 'Ada' }))
    await op('import leads', () =>
      call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: 'email,first_name\nbob@example.com,Bob\n', headers: { 'content-type': 'text/csv' } }),
    )
    const pdf = Buffer.from('%PDF-1.4 router plans').toString('base64')
    const message = await op(
      'create message',
      as('POST', '/v1/messages', {
        ...messageBody(t.accountId, { sequence_step_id: step.body.id, lead_id: lead.body.id }),
        headers: { 'X-Campaign': 'spring' },
        attachments: [{ filename: 'quote.pdf', mime_type: 'application/pdf', content_base64: pdf }],
      }),
    )
    expect(message.status).toBe(201)
    await op('create reply', as('POST', '/v1/messages', messageBody(t.accountId, { parent_message_id: message.body.id, subject: 'Re: hi' })))
    await op('create messages in a batch', as('POST', '/v1/messages/batch', { messages: [messageBody(t.accountId), messageBody(t.accountId, { to_email: 'c@example.com' })] }))
    const account = await call(sys, 'GET', `/v1/email-accounts/${t.accountId}`, { token: t.key })
    await op('receive inbound mail', () =>
      call(sys, 'POST', '/v1/inbound', {
        token: t.key,
        rawBody: `From: lead@example.com\nTo: ${account.body.email_address}\nMessage-ID: <${crypto.randomUUID()}@example.com>\nSubject: Re: hi\n\nsounds good\n`,
        headers: { 'content-type': 'message/rfc822' },
      }),
    )
    await op('record events', as('POST', '/v1/events', { events: [{ event_id: crypto.randomUUID(), message_id: message.body.id, type: 'opened', occurred_at: new Date().toISOString() }] }))
    await op('suppress an address', as('POST', '/v1/suppressions', { email: 'gone@example.com', reason: 'unsubscribed' }))
    const transactional = await op('send transactional mail', as('POST', '/v1/transactional-emails', { to_email: 'buyer@example.com', from_email: 'shop@a.test', subject: 'Receipt', content_text: 'thanks' }))
    const notification = await op('create notification', as('POST', '/v1/notifications', { title: 'Campaign finished' }))
    await op('mark notification read', as('PATCH', `/v1/notifications/${notification.body.id}`, { read: true }))
    await op('set retention policy', as('PUT', '/v1/retention-policy', { content_ttl_days: { outbound: 400, inbound: 400, transactional: 30, notification: 7 }, attachments_ttl_days: 90, archive_after_days: 20 }))
    await op('update lead', as('PATCH', `/v1/leads/${lead.body.id}`, { last_name: 'Lovelace' }))

    // Fetches and listings.
    await op('fetch message', as('GET', `/v1/messages/${message.body.id}`))
    await op('fetch message content', as('GET', `/v1/messages/${message.body.id}/content`))
    const detail = await call(sys, 'GET', `/v1/messages/${message.body.id}`, { token: t.key })
    await op('fetch attachment', as('GET', `/v1/messages/${message.body.id}/attachments/${detail.body.attachments[0].id}`))
    await op('fetch thread', as('GET', `/v1/messages/${message.body.id}/thread`))
    await op('list messages', as('GET', '/v1/messages?limit=10'))
    await op('list messages by mailbox', as('GET', `/v1/messages?email_account_id=${t.accountId}`))
    await op('list messages by campaign', as('GET', `/v1/messages?campaign_id=${campaign.body.id}`))
    await op('list leads', as('GET', '/v1/leads'))
    await op('fetch lead', as('GET', `/v1/leads/${lead.body.id}`))
    await op('list campaigns', as('GET', '/v1/campaigns'))
    await op('list steps', as('GET', `/v1/campaigns/${campaign.body.id}/steps`))
    await op('list email accounts', as('GET', '/v1/email-accounts'))
    await op('check suppression', as('GET', '/v1/suppressions/check?email=gone@example.com'))
    await op('list transactional mail', as('GET', '/v1/transactional-emails'))
    await op('fetch transactional mail', as('GET', `/v1/transactional-emails/${transactional.body.id}`))
    await op('list notifications', as('GET', '/v1/notifications'))
    await op('read retention policy', as('GET', '/v1/retention-policy'))
    await op('tenant storage report', as('GET', '/v1/storage'))

    // Analytics reads (the analytics tier is plain PostgreSQL; the OLTP lookups beside them are here).
    await op('campaign analytics', as('GET', `/v1/analytics/campaigns/${campaign.body.id}`))
    await op('step analytics', as('GET', `/v1/analytics/campaigns/${campaign.body.id}/steps`))
    await op('mailbox analytics', as('GET', `/v1/analytics/email-accounts/${t.accountId}`))

    const hotEnd = log.length
    // Operator reads across tenants: allowed to fan out.
    for (const path of ['/v1/admin/storage', '/v1/admin/overview', '/v1/admin/queues', '/v1/tenants']) {
      await op(`operator GET ${path}`, () => call(sys, 'GET', path, { token: ADMIN_TOKEN }))
    }

    // Every operation answered as it should, or its statements would not be the real ones.
    expect(statuses.filter((s) => !/: 20[0124]$/.test(s))).toEqual([])

    await deps.outbox.kick() // as the sweep does: every tenant's rows, found by asking every shard
    await deps.outbox.stop()
    const hot = new Map<string, Statement>()
    const operator = new Map<string, Statement>()
    const relay = new Map<string, Statement>()
    for (const [i, s] of log.entries()) {
      if (s.operation === 'between' || s.operation === 'setup' || NOT_PLANNED.test(s.text)) continue
      ;(s.operation === RELAY ? relay : i < hotEnd ? hot : operator).set(`${s.tier}\n${s.text}`, s)
    }
    expect(hot.size).toBeGreaterThan(40)

    // The relay: a write's kick claims and deletes its own tenant's rows, routed; the sweep's search for waiting tenants asks every shard.
    const relayFanOut: string[] = []
    for (const s of relay.values()) if ((await tasksOf(real[s.tier], s)).tasks > 1) relayFanOut.push(s.text.replace(/\s+/g, ' '))
    expect(relay.size).toBeGreaterThanOrEqual(3)
    expect(relayFanOut).toEqual([expect.stringContaining('SELECT tenant_id FROM oltp.outbox WHERE') as unknown as string])

    const fanOut: string[] = []
    for (const s of hot.values()) {
      const { tasks, plan } = await tasksOf(real[s.tier], s)
      if (tasks > 1) fanOut.push(`${s.operation} (${s.tier}, ${tasks} shards):\n${s.text.replace(/\s+/g, ' ').slice(0, 300)}\n${plan.split('\n').slice(0, 4).join('\n')}`)
    }
    expect(fanOut).toEqual([])

    const operatorFanOut = new Set<string>()
    for (const s of operator.values()) if ((await tasksOf(real[s.tier], s)).tasks > 1) operatorFanOut.add(s.operation)
    console.log(`operator reads that ask every shard: ${[...operatorFanOut].sort().join(', ')}`)
    // A read across tenants must show as one: the check above can see a fan-out when there is one.
    expect(operatorFanOut.size).toBeGreaterThan(0)
  }, 120_000)
})
