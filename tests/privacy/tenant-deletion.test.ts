/**
 * Suspending and deleting a tenant. Suspension refuses its keys (403) from the next request and
 * can be undone; deletion takes a suspended tenant only, and removes every row of it in the four
 * tiers: afterwards no row of any tier names its id (searched without knowing the schema) but the
 * record of the deletion, another tenant keeps everything, and a deletion killed part way resumes
 * to the same counts.
 */
import { describe, expect, test } from 'bun:test'
import type { Tiers } from '../../src/db/tiers.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call, createTenant } from '../support/api.ts'
import { faultyDb } from '../support/faults.ts'
import { drainQueues } from '../support/queues.ts'
import { searchTiers } from '../support/search.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { buildWorld, reports, type World } from './world.ts'

const config = testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
const sys = useSystem(config)

const admin = (method: string, path: string, body?: unknown) => call(sys, method, path, { token: ADMIN_TOKEN, body })

/** A world with a retention policy, webhook settings and a second key. */
async function richWorld(name: string): Promise<World> {
  const w = await buildWorld(sys, name, `${name}-person@example.com`, `${name}-other@example.org`)
  const as = (method: string, path: string, body: unknown) => call(sys, method, path, { token: w.key, body })
  await as('PUT', '/v1/retention-policy', {
    content_ttl_days: { outbound: 400, inbound: 400, transactional: 30, notification: 10 },
    attachments_ttl_days: 200,
    archive_after_days: null,
  })
  await as('PUT', '/v1/webhook-settings', { provider: 'mailgun', signing_key: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0' })
  await as('POST', '/v1/api-keys', { name: 'reporting', scopes: ['analytics:read'] })
  await drainQueues(sys)
  return w
}

async function deleteTenant(w: World) {
  expect((await admin('PATCH', `/v1/tenants/${w.id}`, { status: 'suspended' })).status).toBe(200)
  const r = await admin('DELETE', `/v1/tenants/${w.id}`)
  expect(r.status).toBe(202)
  return r.body
}

/** What may still name a deleted tenant: its deletion request, and the two audit entries about it. */
const RECORD_OF_DELETION = [
  { where: 'oltp.audit_log.tenant_id', rows: 2 },
  { where: 'oltp.erasure_requests.tenant_id', rows: 1 },
]

describe('suspending a tenant', () => {
  test('its keys answer 403 from the next request, its webhooks 401; made active again, they work', async () => {
    const t = await createTenant(sys, 'suspend-me')
    await call(sys, 'PUT', '/v1/webhook-settings', { token: t.key, body: { provider: 'mailgun', signing_key: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0' } })
    const hook = () => call(sys, 'POST', `/v1/webhooks/mailgun?tenant_id=${t.id}`, { body: { signature: { timestamp: '1', token: 'x', signature: 'y' } } })
    const unsignedWhileActive = (await hook()).status
    expect((await call(sys, 'GET', '/v1/campaigns', { token: t.key })).status).toBe(200)
    const suspended = await admin('PATCH', `/v1/tenants/${t.id}`, { status: 'suspended' })
    expect(suspended.body).toMatchObject({ id: t.id, status: 'suspended' })
    const refused = await call(sys, 'GET', '/v1/campaigns', { token: t.key })
    expect({ status: refused.status, field: refused.body.errors?.[0]?.field }).toEqual({ status: 403, field: 'tenant' })
    expect((await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email: 'x@example.com' } })).status).toBe(403)
    expect((await hook()).status).toBe(401)
    expect(unsignedWhileActive).toBe(401)
    expect((await admin('PATCH', `/v1/tenants/${t.id}`, { status: 'active' })).body.status).toBe('active')
    expect((await call(sys, 'GET', '/v1/campaigns', { token: t.key })).status).toBe(200)
    // Limits and status in one PATCH; a field left out keeps its value.
    expect((await admin('PATCH', `/v1/tenants/${t.id}`, { rate_limit_burst: 7 })).body).toMatchObject({ status: 'active', rate_limit_burst: 7 })
  })

  test('deletion refuses an active tenant (409 naming status) and an unknown one (404); the operator lists tenants', async () => {
    const t = await createTenant(sys, 'still-active')
    const r = await admin('DELETE', `/v1/tenants/${t.id}`)
    expect({ status: r.status, field: r.body.errors?.[0]?.field }).toEqual({ status: 409, field: 'status' })
    expect((await admin('DELETE', '/v1/tenants/019cadd2-391f-7ce9-aa06-e9ab85a0bcc9')).status).toBe(404)
    expect((await admin('GET', `/v1/tenants/${t.id}/deletion`)).status).toBe(404)
    const listed = await admin('GET', '/v1/tenants?limit=200')
    expect(listed.body.data.find((x: any) => x.id === t.id)).toMatchObject({ name: 'still-active', status: 'active' })
    expect((await call(sys, 'GET', '/v1/tenants', { token: t.key })).status).toBe(401)
  })
})

describe('deleting a tenant', () => {
  test('removes every row of it in every tier but the record of the deletion; another tenant keeps everything', async () => {
    const gone = await richWorld('deleted-co')
    const kept = await richWorld('kept-co')
    const keptHits = await searchTiers(sys.tiers, kept.id)
    const keptReports = await reports(sys, kept)
    expect((await searchTiers(sys.tiers, gone.id)).length).toBeGreaterThan(20)

    const accepted = await deleteTenant(gone)
    expect(accepted).toMatchObject({ tenant_id: gone.id, status: 'pending', tiers: { oltp: {}, content: {}, analytics: {}, queue: {} } })
    expect((await admin('DELETE', `/v1/tenants/${gone.id}`)).body.id).toBe(accepted.id)
    expect((await admin('PATCH', `/v1/tenants/${gone.id}`, { status: 'active' })).status).toBe(409)
    expect((await call(sys, 'GET', '/v1/campaigns', { token: gone.key })).status).toBe(403)
    expect((await admin('GET', '/v1/tenants?limit=200')).body.data.find((x: any) => x.id === gone.id).status).toBe('deleting')
    await drainQueues(sys)

    const done = (await admin('GET', `/v1/tenants/${gone.id}/deletion`)).body
    expect(done).toMatchObject({ id: accepted.id, status: 'completed' })
    expect(done.tiers.oltp).toMatchObject({ inbox_message_refs: 4, leads: 2, campaigns: 1, sequence_steps: 1, email_accounts: 1, api_keys: 2 })
    expect(done.tiers.content).toMatchObject({ content_objects: 6, attachments: 4, attachment_blobs: 3, transactional_emails: 2, notifications: 2, retention_policies: 1 })
    expect(done.tiers.queue).toMatchObject({ dead_letters: 1, job_logs: 1 })
    expect(done.tiers.analytics.events).toBeGreaterThan(0)
    expect(await searchTiers(sys.tiers, gone.id)).toEqual(RECORD_OF_DELETION)
    expect((await call(sys, 'GET', '/v1/campaigns', { token: gone.key })).status).toBe(401)
    expect((await admin('GET', '/v1/tenants?limit=200')).body.data.some((x: any) => x.id === gone.id)).toBe(false)

    expect(await searchTiers(sys.tiers, kept.id)).toEqual(keptHits)
    expect(await reports(sys, kept)).toEqual(keptReports)
    expect((await call(sys, 'GET', `/v1/messages/${kept.otherMessage}/content`, { token: kept.key })).status).toBe(200)
  })

  for (const fault of [
    { tier: 'analytics', at: /DELETE FROM analytics\.rollup_daily/ },
    { tier: 'content', at: /DELETE FROM content\.content_objects/ },
    { tier: 'oltp', at: /DELETE FROM oltp\.leads/ },
  ] as const) {
    test(`a deletion killed part way (in ${fault.tier}) resumes to the same counts as one that was not`, async () => {
      const reference = await richWorld(`ref-${fault.tier}`)
      const crashed = await richWorld(`crash-${fault.tier}`)
      const ref = await deleteTenant(reference)
      await drainQueues(sys)
      const r = await deleteTenant(crashed)

      let fired = false
      const failing = (text: string) => !fired && fault.at.test(text) && (fired = true)
      const tiers = { ...sys.tiers, [fault.tier]: faultyDb(sys.tiers[fault.tier], failing, 'injected fault') } as Tiers
      const crashing = new Worker(makeDeps(tiers, { config }), { queues: [QUEUES.jobs], jobs: HANDLERS })
      await sys.deps.outbox.kick() // separate databases: the request's job waits in the OLTP outbox
      for (let n = 0; n < 50 && !fired; n++) await crashing.runOnce(QUEUES.jobs)
      expect(fired).toBe(true)
      expect((await admin('GET', `/v1/tenants/${crashed.id}/deletion`)).body.status).toBe('running')

      await drainQueues(sys)
      const done = (await admin('GET', `/v1/tenants/${crashed.id}/deletion`)).body
      expect(done.status).toBe('completed')
      expect(done.tiers).toEqual((await admin('GET', `/v1/tenants/${reference.id}/deletion`)).body.tiers)
      expect(done.id).toBe(r.id)
      expect(ref.id).not.toBe(r.id)
      expect(await searchTiers(sys.tiers, crashed.id)).toEqual(RECORD_OF_DELETION)
    })
  }
})
