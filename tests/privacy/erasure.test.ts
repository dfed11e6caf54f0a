/**
 * Erasing a person (invariant 7 of DESIGN.md): after the request completes, the address appears
 * nowhere in any tier, in any case, decompressed bodies included (searched without knowing the
 * schema: tests/support/search.ts); every count the reports show is what it was; the other person
 * in the same tenant keeps every row; threads stay whole, erased content answers 410, and the
 * suppression still refuses to mail the person. Then the API's edges: by lead, refusals, one
 * request per person at a time, tenants apart.
 */
import { describe, expect, test } from 'bun:test'
import { sha256Hex } from '../../src/ids.ts'
import { runDoctor } from '../../src/services/doctor.ts'
import { call, createTenant } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { searchTiers } from '../support/search.ts'
import { testConfig, useSystem } from '../support/system.ts'
import { buildWorld, ERASED_COUNTS, reports } from './world.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))

describe('erasing a person', () => {
  test('nothing names the person afterwards, in any tier; counts, threads and the other person stay', async () => {
    const person = 'Jane.Doe@Example.com'
    const other = 'bob.stone@example.org'
    const w = await buildWorld(sys, 'erase-proof', person, other)
    const get = (path: string) => call(sys, 'GET', path, { token: w.key })
    const before = await reports(sys, w)
    const refBefore = (await get(`/v1/messages/${w.outbound}`)).body
    const otherContent = (await get(`/v1/messages/${w.otherMessage}`)).body
    expect((await searchTiers(sys.tiers, person)).length).toBeGreaterThan(15)
    const otherBefore = await searchTiers(sys.tiers, other)

    const accepted = await call(sys, 'POST', '/v1/erasure-requests', { token: w.key, body: { email: 'JANE.DOE@example.COM' } })
    expect(accepted.status).toBe(202)
    expect(accepted.body).toMatchObject({ status: 'pending', completed_at: null, lead_id: w.leadId })
    await drainQueues(sys)

    const done = await get(`/v1/erasure-requests/${accepted.body.id}`)
    expect(done.body).toMatchObject({ status: 'completed', email_sha256: sha256Hex('jane.doe@example.com') })
    expect(done.body.tiers).toEqual(ERASED_COUNTS)

    // The proof: no row of any tier names the person, in any case, compressed bodies included.
    expect(await searchTiers(sys.tiers, person)).toEqual([])
    // Aggregates are whole; the other person keeps everything.
    expect(await reports(sys, w)).toEqual(before)
    expect(await searchTiers(sys.tiers, other)).toEqual(otherBefore)
    expect((await get(`/v1/messages/${w.otherMessage}`)).body).toEqual(otherContent)

    // The ref stays with its ids, dates, links and status; its content answers 410 erased.
    const ref = await get(`/v1/messages/${w.outbound}/content`)
    expect(ref.status).toBe(410)
    expect(ref.body.content_state).toBe('erased')
    expect((await get(`/v1/messages/${w.outbound}/attachments/${refBefore.attachments[0].id}`)).status).toBe(410)
    const listed = (await get(`/v1/messages?email_account_id=${w.accountId}&limit=10`)).body.data.find((m: any) => m.id === w.outbound)
    const { content_state: _s, to_email: _t, subject: _j, lead_id: _l, rfc822_message_id: _r, updated: _u, ...kept } = refBefore
    const { attachments: _a, content: _c, ...keptRef } = kept
    expect(listed).toMatchObject({ ...keptRef, to_email: '[erased]', subject: '[erased]', lead_id: null, content_state: 'erased' })
    expect((await get(`/v1/messages/${w.outbound}/thread`)).body.data.map((m: any) => m.id)).toEqual([w.outbound, w.reply])
    // The message that only mentioned the person keeps its recipient; its body went whole.
    const mention = (await get(`/v1/messages/${w.mention}`))
    expect(mention.status).toBe(410)
    expect((await get(`/v1/messages?email_account_id=${w.accountId}&limit=10`)).body.data.find((m: any) => m.id === w.mention).to_email).toBe(other)

    // The cross-tier checks accept an erased ref without content, and find no orphan left behind.
    const doctor = await runDoctor(sys.deps)
    const check = (name: string) => doctor.checks.find((c) => c.name === name)!
    expect([check('refs_without_content').violations, check('orphan_content').violations, check('attachments_without_blob').violations]).toEqual([0, 0, 0])

    // The lead is gone; the suppression still holds, by the address's hash.
    expect((await get(`/v1/leads/${w.leadId}`)).status).toBe(404)
    expect((await get(`/v1/leads/${w.otherLeadId}`)).status).toBe(200)
    const send = await call(sys, 'POST', '/v1/messages', {
      token: w.key,
      body: { email_account_id: w.accountId, from_email: 'sales@acme.test', to_email: 'jane.doe@EXAMPLE.com', subject: 'Again?', content_text: 'x' },
    })
    expect({ status: send.status, field: send.body.errors?.[0]?.field }).toEqual({ status: 422, field: 'to_email' })
    expect((await get(`/v1/suppressions/check?email=Jane.Doe@example.com`)).body.suppressed).toBe(true)
    // A kept Idempotency-Key answer is dropped: the retry does not run twice, and says so instead of replaying the person.
    const retry = await call(sys, 'POST', '/v1/transactional-emails', { token: w.key, body: w.idempotent.body, headers: { 'idempotency-key': w.idempotent.key } })
    expect(retry.status).toBe(409)
    expect(JSON.stringify(retry.body).toLowerCase()).not.toContain('jane.doe')
  })

  test('by lead id: the lead’s address is erased; the answer never shows it', async () => {
    const w = await buildWorld(sys, 'erase-by-lead', 'lead.only@example.com', 'keep.me@example.org')
    const r = await call(sys, 'POST', '/v1/erasure-requests', { token: w.key, body: { lead_id: w.leadId } })
    expect(r.status).toBe(202)
    expect(r.body).toMatchObject({ lead_id: w.leadId, email_sha256: sha256Hex('lead.only@example.com') })
    expect(JSON.stringify(r.body)).not.toContain('lead.only')
    await drainQueues(sys)
    expect((await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: w.key })).body.tiers).toEqual(ERASED_COUNTS)
    expect(await searchTiers(sys.tiers, 'lead.only@example.com')).toEqual([])
  })

  test('an address that only contains the person’s is another person: left alone', async () => {
    const t = await createTenant(sys, 'erase-boundary')
    const as = (method: string, path: string, body?: unknown) => call(sys, method, path, { token: t.key, body })
    await as('POST', '/v1/leads', { email: 'mary.ann@example.com' })
    await as('POST', '/v1/leads', { email: 'ann@example.com.au' })
    await as('POST', '/v1/leads', { email: 'ann@example.com' })
    const r = await as('POST', '/v1/erasure-requests', { email: 'ann@example.com' })
    await drainQueues(sys)
    expect((await as('GET', `/v1/erasure-requests/${r.body.id}`)).body.tiers.oltp.leads).toBe(1)
    const left = (await as('GET', '/v1/leads?limit=10')).body.data.map((l: any) => l.email).sort()
    expect(left).toEqual(['ann@example.com.au', 'mary.ann@example.com'])
  })

  test('refusals: neither or both of email and lead_id (422), a foreign lead (404), the tenant’s own mailbox (422); nothing recorded', async () => {
    const a = await createTenant(sys, 'erase-refusals-a')
    const b = await createTenant(sys, 'erase-refusals-b')
    const foreignLead = (await call(sys, 'POST', '/v1/leads', { token: b.key, body: { email: 'theirs@example.com' } })).body.id
    const mailbox = (await call(sys, 'GET', `/v1/email-accounts/${a.accountId}`, { token: a.key })).body.email_address
    for (const [body, status, field] of [
      [{}, 422, 'email'],
      [{ email: 'x@example.com', lead_id: foreignLead }, 422, 'lead_id'],
      [{ email: 'not an address' }, 422, 'email'],
      [{ lead_id: foreignLead }, 404, 'lead_id'],
      [{ email: mailbox.toUpperCase() }, 422, 'email'],
    ] as const) {
      const r = await call(sys, 'POST', '/v1/erasure-requests', { token: a.key, body })
      expect({ body, status: r.status, field: r.body.errors?.[0]?.field }).toEqual({ body, status, field })
    }
    expect((await call(sys, 'GET', '/v1/erasure-requests', { token: a.key })).body.data).toEqual([])
  })

  test('asking again while it runs answers the same request; another tenant sees none of it', async () => {
    const a = await createTenant(sys, 'erase-once-a')
    const b = await createTenant(sys, 'erase-once-b')
    const first = await call(sys, 'POST', '/v1/erasure-requests', { token: a.key, body: { email: 'twice@example.com' } })
    const again = await call(sys, 'POST', '/v1/erasure-requests', { token: a.key, body: { email: 'TWICE@example.com' } })
    expect(again.status).toBe(202)
    expect(again.body.id).toBe(first.body.id)
    expect((await call(sys, 'GET', `/v1/erasure-requests/${first.body.id}`, { token: b.key })).status).toBe(404)
    expect((await call(sys, 'GET', '/v1/erasure-requests', { token: b.key })).body.data).toEqual([])
    await drainQueues(sys)
    const listed = (await call(sys, 'GET', '/v1/erasure-requests', { token: a.key })).body
    expect(listed.data.map((r: any) => [r.id, r.status])).toEqual([[first.body.id, 'completed']])
    // Once completed, a new request is a new one (new data may have come in since).
    const later = await call(sys, 'POST', '/v1/erasure-requests', { token: a.key, body: { email: 'twice@example.com' } })
    expect(later.body.id).not.toBe(first.body.id)
    await drainQueues(sys)
  })
})
