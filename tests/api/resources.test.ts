/**
 * Mailboxes, leads and notifications as a client handles them one by one: read, change, delete.
 * What messages name is never deleted (409 naming why), another tenant's ids answer 404 like
 * missing ones and change nothing, and a PATCH names any field it does not take.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'
import { useSystem } from '../support/system.ts'

const sys = useSystem()
const MISSING = '01900000-0000-7000-8000-000000000000'

async function lead(t: TenantFixture, email: string, extra: Record<string, unknown> = {}) {
  const r = await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email, ...extra } })
  expect(r.status).toBe(201)
  return r.body
}

describe('email accounts', () => {
  test('read, rename, pause and archive a mailbox; a field left out keeps its value', async () => {
    const t = await createTenant(sys)
    const got = await call(sys, 'GET', `/v1/email-accounts/${t.accountId}`, { token: t.key })
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({ id: t.accountId, tenant_id: t.id, display_name: null, status: 'active' })

    const renamed = await call(sys, 'PATCH', `/v1/email-accounts/${t.accountId}`, { token: t.key, body: { display_name: 'Sales team' } })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({ display_name: 'Sales team', status: 'active', email_address: got.body.email_address })
    expect(Date.parse(renamed.body.updated)).toBeGreaterThanOrEqual(Date.parse(got.body.updated))

    const paused = await call(sys, 'PATCH', `/v1/email-accounts/${t.accountId}`, { token: t.key, body: { status: 'paused' } })
    expect(paused.body).toMatchObject({ display_name: 'Sales team', status: 'paused' })
    const cleared = await call(sys, 'PATCH', `/v1/email-accounts/${t.accountId}`, { token: t.key, body: { display_name: null, status: 'archived' } })
    expect(cleared.body).toMatchObject({ display_name: null, status: 'archived' })
    expect((await call(sys, 'GET', `/v1/email-accounts/${t.accountId}`, { token: t.key })).body).toEqual(cleared.body)
  })

  test('the address cannot change, and an unknown status or field is a 422 naming it', async () => {
    const t = await createTenant(sys)
    for (const [body, field] of [
      [{ email_address: 'other@example.com' }, 'email_address'],
      [{ status: 'deleted' }, 'status'],
      [{ display_name: 'a\r\nBcc: x@example.com' }, 'display_name'],
    ] as const) {
      const r = await call(sys, 'PATCH', `/v1/email-accounts/${t.accountId}`, { token: t.key, body })
      expect({ field, status: r.status, named: r.body.errors?.map((e: any) => e.field) }).toEqual({ field, status: 422, named: [field] })
    }
    expect((await call(sys, 'GET', `/v1/email-accounts/${t.accountId}`, { token: t.key })).body.status).toBe('active')
  })

  test('a mailbox without messages is deleted; one with messages answers 409 and stays', async () => {
    const t = await createTenant(sys)
    const spare = await call(sys, 'POST', '/v1/email-accounts', { token: t.key, body: { email_address: 'spare@example.com' } })
    expect((await call(sys, 'DELETE', `/v1/email-accounts/${spare.body.id}`, { token: t.key })).status).toBe(204)
    expect((await call(sys, 'GET', `/v1/email-accounts/${spare.body.id}`, { token: t.key })).status).toBe(404)
    expect((await call(sys, 'DELETE', `/v1/email-accounts/${spare.body.id}`, { token: t.key })).status).toBe(404)

    expect((await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })).status).toBe(201)
    const refused = await call(sys, 'DELETE', `/v1/email-accounts/${t.accountId}`, { token: t.key })
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain('archive')
    expect(refused.body.errors).toEqual([{ field: 'id', message: 'has messages' }])
    expect((await call(sys, 'GET', `/v1/email-accounts/${t.accountId}`, { token: t.key })).status).toBe(200)
    expect((await call(sys, 'GET', `/v1/messages?email_account_id=${t.accountId}`, { token: t.key })).body.data).toHaveLength(1)
  })
})

describe('leads', () => {
  test('read and change a lead: names cleared with null, a new address, a status', async () => {
    const t = await createTenant(sys)
    const l = await lead(t, 'ana@example.com', { first_name: 'Ana', last_name: 'Lima' })
    expect((await call(sys, 'GET', `/v1/leads/${l.id}`, { token: t.key })).body).toEqual(l)

    const changed = await call(sys, 'PATCH', `/v1/leads/${l.id}`, { token: t.key, body: { last_name: null, email: 'ana.lima@example.com', status: 'paused' } })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ id: l.id, email: 'ana.lima@example.com', first_name: 'Ana', last_name: null, status: 'paused' })
    const found = await call(sys, 'GET', '/v1/leads?email=ANA.LIMA@example.com', { token: t.key })
    expect(found.body.data.map((r: any) => r.id)).toEqual([l.id])
    const same = await call(sys, 'PATCH', `/v1/leads/${l.id}`, { token: t.key, body: {} })
    expect(same.body).toEqual(changed.body)
  })

  test('an address another lead has is a 409 naming email, compared without case', async () => {
    const t = await createTenant(sys)
    const a = await lead(t, 'first@example.com')
    await lead(t, 'second@example.com')
    const r = await call(sys, 'PATCH', `/v1/leads/${a.id}`, { token: t.key, body: { email: 'SECOND@example.com' } })
    expect(r.status).toBe(409)
    expect(r.body.errors).toEqual([{ field: 'email', message: 'already exists' }])
    expect((await call(sys, 'GET', `/v1/leads/${a.id}`, { token: t.key })).body.email).toBe('first@example.com')
  })

  test('bad changes are 422 naming the field', async () => {
    const t = await createTenant(sys)
    const l = await lead(t, 'bad@example.com')
    for (const [body, field] of [
      [{ email: 'not an address' }, 'email'],
      [{ first_name: '' }, 'first_name'],
      [{ status: 'bounced' }, 'status'],
      [{ company: 'Acme' }, 'company'],
      [{ email: null }, 'email'],
    ] as const) {
      const r = await call(sys, 'PATCH', `/v1/leads/${l.id}`, { token: t.key, body })
      expect({ field, status: r.status, named: r.body.errors?.map((e: any) => e.field) }).toEqual({ field, status: 422, named: [field] })
    }
  })

  test('a lead without messages is deleted; one with messages answers 409 and keeps its history', async () => {
    const t = await createTenant(sys)
    const gone = await lead(t, 'gone@example.com')
    expect((await call(sys, 'DELETE', `/v1/leads/${gone.id}`, { token: t.key })).status).toBe(204)
    expect((await call(sys, 'GET', `/v1/leads/${gone.id}`, { token: t.key })).status).toBe(404)
    // The address is free again.
    await lead(t, 'gone@example.com')

    const kept = await lead(t, 'kept@example.com')
    await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { lead_id: kept.id, to_email: 'kept@example.com' }) })
    const refused = await call(sys, 'DELETE', `/v1/leads/${kept.id}`, { token: t.key })
    expect(refused.status).toBe(409)
    expect(refused.body.errors).toEqual([{ field: 'id', message: 'has messages' }])
    const archived = await call(sys, 'PATCH', `/v1/leads/${kept.id}`, { token: t.key, body: { status: 'archived' } })
    expect(archived.body.status).toBe('archived')
  })
})

describe('notifications', () => {
  test('read one, mark it read (the first time is kept) and unread', async () => {
    const t = await createTenant(sys)
    const n = await call(sys, 'POST', '/v1/notifications', { token: t.key, body: { title: 'Import done', data: { imported: 3 } } })
    const got = await call(sys, 'GET', `/v1/notifications/${n.body.id}`, { token: t.key })
    expect(got.status).toBe(200)
    expect(got.body).toEqual(n.body)
    expect(got.body.read_at).toBeNull()

    const read = await call(sys, 'PATCH', `/v1/notifications/${n.body.id}`, { token: t.key, body: { read: true } })
    expect(read.status).toBe(200)
    expect(typeof read.body.read_at).toBe('string')
    const again = await call(sys, 'PATCH', `/v1/notifications/${n.body.id}`, { token: t.key, body: { read: true } })
    expect(again.body.read_at).toBe(read.body.read_at)
    const listed = await call(sys, 'GET', '/v1/notifications', { token: t.key })
    expect(listed.body.data.find((r: any) => r.id === n.body.id).read_at).toBe(read.body.read_at)

    const unread = await call(sys, 'PATCH', `/v1/notifications/${n.body.id}`, { token: t.key, body: { read: false } })
    expect(unread.body.read_at).toBeNull()
    for (const [body, fields] of [
      [{}, ['read']],
      [{ read: 'yes' }, ['read']],
      [{ read_at: null }, ['read', 'read_at']],
    ] as const) {
      const bad = await call(sys, 'PATCH', `/v1/notifications/${n.body.id}`, { token: t.key, body })
      expect({ body, status: bad.status, fields: bad.body.errors.map((e: any) => e.field).sort() }).toEqual({ body, status: 422, fields: [...fields] })
    }
  })
})

describe('tenant isolation', () => {
  test('another tenant’s ids answer 404 exactly like missing ones, on every new route, and change nothing', async () => {
    const a = await createTenant(sys)
    const b = await createTenant(sys)
    const l = await lead(a, 'private@example.com', { first_name: 'Pat' })
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: a.key, body: { name: 'A only' } })
    const step = await call(sys, 'POST', `/v1/campaigns/${campaign.body.id}/steps`, { token: a.key, body: { step_number: 1 } })
    const n = await call(sys, 'POST', '/v1/notifications', { token: a.key, body: { title: 'for A' } })
    const before = await rowCounts(sys)
    const probes: [string, string, unknown?][] = [
      ['GET', `/v1/email-accounts/${a.accountId}`],
      ['PATCH', `/v1/email-accounts/${a.accountId}`, { status: 'archived' }],
      ['DELETE', `/v1/email-accounts/${a.accountId}`],
      ['GET', `/v1/campaigns/${campaign.body.id}`],
      ['PATCH', `/v1/campaigns/${campaign.body.id}`, { name: 'taken' }],
      ['DELETE', `/v1/campaigns/${campaign.body.id}`],
      ['GET', `/v1/campaigns/${campaign.body.id}/steps/${step.body.id}`],
      ['PATCH', `/v1/campaigns/${campaign.body.id}/steps/${step.body.id}`, { delay_days: 9 }],
      ['DELETE', `/v1/campaigns/${campaign.body.id}/steps/${step.body.id}`],
      ['GET', `/v1/leads/${l.id}`],
      ['PATCH', `/v1/leads/${l.id}`, { first_name: 'Mallory' }],
      ['DELETE', `/v1/leads/${l.id}`],
      ['GET', `/v1/notifications/${n.body.id}`],
      ['PATCH', `/v1/notifications/${n.body.id}`, { read: true }],
    ]
    const ids = [a.accountId, campaign.body.id, step.body.id, l.id, n.body.id]
    for (const [method, path, body] of probes) {
      const foreign = await call(sys, method, path, { token: b.key, body })
      expect({ method, path, status: foreign.status }).toEqual({ method, path, status: 404 })
      const absent = await call(sys, method, ids.reduce((p, id) => p.replaceAll(id, MISSING), path), { token: b.key, body })
      expect({ method, path, detail: absent.body.detail }).toEqual({ method, path, detail: foreign.body.detail })
    }
    expect(await rowCounts(sys)).toEqual(before)
    expect((await call(sys, 'GET', `/v1/leads/${l.id}`, { token: a.key })).body).toEqual(l)
    expect((await call(sys, 'GET', `/v1/campaigns/${campaign.body.id}`, { token: a.key })).body).toEqual(campaign.body)
    expect((await call(sys, 'GET', `/v1/campaigns/${campaign.body.id}/steps/${step.body.id}`, { token: a.key })).body).toEqual(step.body)
    expect((await call(sys, 'GET', `/v1/notifications/${n.body.id}`, { token: a.key })).body.read_at).toBeNull()
    expect((await call(sys, 'GET', `/v1/email-accounts/${a.accountId}`, { token: a.key })).body.status).toBe('active')
  })
})
