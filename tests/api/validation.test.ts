/**
 * Invariant 5: bad input gets a clear 4xx problem naming the field, never a 5xx, and changes
 * nothing in any tier.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem()

interface Case {
  name: string
  method: string
  path: (f: Fixture) => string
  body?: (f: Fixture) => unknown
  rawBody?: string
  headers?: Record<string, string>
  token?: 'tenant' | 'admin' | 'none' | 'wrong'
  status: number
  field?: string
}

interface Fixture extends TenantFixture {
  campaignId: string
  messageId: string
}

const valid = (f: Fixture, extra: Record<string, unknown> = {}) => messageBody(f.accountId, extra)

const cases: Case[] = [
  { name: 'tenant without name', method: 'POST', path: () => '/v1/tenants', body: () => ({}), token: 'admin', status: 422, field: 'name' },
  { name: 'tenant with a tenant key', method: 'POST', path: () => '/v1/tenants', body: () => ({ name: 'x' }), status: 401 },
  { name: 'tenant without token', method: 'POST', path: () => '/v1/tenants', body: () => ({ name: 'x' }), token: 'none', status: 401 },
  { name: 'account bad email', method: 'POST', path: () => '/v1/email-accounts', body: () => ({ email_address: 'nope' }), status: 422, field: 'email_address' },
  { name: 'account duplicate', method: 'POST', path: () => '/v1/email-accounts', body: () => ({ email_address: 'DUP@validation.test' }), status: 409, field: 'email_address' },
  { name: 'accounts bad limit', method: 'GET', path: () => '/v1/email-accounts?limit=0', status: 422, field: 'limit' },
  { name: 'campaign empty name', method: 'POST', path: () => '/v1/campaigns', body: () => ({ name: '   ' }), status: 422, field: 'name' },
  { name: 'campaigns bad cursor', method: 'GET', path: () => '/v1/campaigns?cursor=zzz', status: 422, field: 'cursor' },
  { name: 'step number zero', method: 'POST', path: (f) => `/v1/campaigns/${f.campaignId}/steps`, body: () => ({ step_number: 0 }), status: 422, field: 'step_number' },
  { name: 'step duplicate', method: 'POST', path: (f) => `/v1/campaigns/${f.campaignId}/steps`, body: () => ({ step_number: 1 }), status: 409, field: 'step_number' },
  { name: 'step bad campaign id', method: 'POST', path: () => '/v1/campaigns/not-a-uuid/steps', body: () => ({ step_number: 2 }), status: 422, field: 'id' },
  { name: 'lead bad email', method: 'POST', path: () => '/v1/leads', body: () => ({ email: 'a@' }), status: 422, field: 'email' },
  { name: 'lead duplicate', method: 'POST', path: () => '/v1/leads', body: () => ({ email: 'Lead@Validation.test' }), status: 409, field: 'email' },
  { name: 'message missing account', method: 'POST', path: () => '/v1/messages', body: (f) => ({ ...valid(f), email_account_id: undefined }), status: 422, field: 'email_account_id' },
  { name: 'message bad direction', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { direction: 'sideways' }), status: 422, field: 'direction' },
  { name: 'message bad base64', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { attachments: [{ filename: 'a', mime_type: 'text/plain', content_base64: '@@@' }] }), status: 422, field: 'attachments.0.content_base64' },
  { name: 'message bad mime type', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { attachments: [{ filename: 'a', mime_type: 'pdf', content_base64: '' }] }), status: 422, field: 'attachments.0.mime_type' },
  { name: 'message bad header name', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { headers: [{ name: 'Bad:Name', value: 'x' }] }), status: 422, field: 'headers.0.name' },
  { name: 'message subject too long', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { subject: 'x'.repeat(501) }), status: 422, field: 'subject' },
  { name: 'message NUL in subject', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { subject: 'a\u0000b' }), status: 422, field: 'subject' },
  { name: 'message NUL in a large body', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { content_html: 'x\u0000'.repeat(2000) }), status: 422, field: 'content_html' },
  { name: 'message NUL in a header', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { headers: [{ name: 'X-A', value: '\u0000' }] }), status: 422, field: 'headers.0.value' },
  { name: 'lead NUL in a name', method: 'POST', path: () => '/v1/leads', body: () => ({ email: 'nul@validation.test', first_name: 'a\u0000' }), status: 422, field: 'first_name' },
  { name: 'message unknown account', method: 'POST', path: () => '/v1/messages', body: (f) => valid(f, { email_account_id: '01900000-0000-7000-8000-000000000000' }), status: 404, field: 'email_account_id' },
  { name: 'message malformed JSON', method: 'POST', path: () => '/v1/messages', rawBody: '{"subject":', headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'message not JSON', method: 'POST', path: () => '/v1/messages', rawBody: 'hello', headers: { 'content-type': 'text/plain' }, status: 415 },
  { name: 'message JSON array', method: 'POST', path: () => '/v1/messages', body: () => [1, 2], status: 422 },
  { name: 'messages bad filter', method: 'GET', path: () => '/v1/messages?direction=up', status: 422, field: 'direction' },
  { name: 'messages bad limit', method: 'GET', path: () => '/v1/messages?limit=5000', status: 422, field: 'limit' },
  { name: 'message bad id', method: 'GET', path: () => '/v1/messages/123', status: 422, field: 'id' },
  { name: 'message unknown id', method: 'GET', path: () => '/v1/messages/01900000-0000-7000-8000-000000000000', status: 404 },
  { name: 'attachment unknown id', method: 'GET', path: (f) => `/v1/messages/${f.messageId}/attachments/01900000-0000-7000-8000-000000000000`, status: 404 },
  { name: 'wrong api key', method: 'GET', path: () => '/v1/messages', token: 'wrong', status: 401 },
  { name: 'no api key', method: 'GET', path: () => '/v1/leads', token: 'none', status: 401 },
  { name: 'unknown route', method: 'GET', path: () => '/v1/nothing-here', status: 404 },
  { name: 'wrong method', method: 'DELETE', path: () => '/v1/campaigns', status: 404 },
]

describe('bad input', () => {
  // One tenant with a campaign, a step, a lead and a message for every case to aim at.
  let f: Fixture
  beforeAll(async () => {
    const t = await createTenant(sys, 'validation')
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'c' } })
    await call(sys, 'POST', `/v1/campaigns/${campaign.body.id}/steps`, { token: t.key, body: { step_number: 1 } })
    await call(sys, 'POST', '/v1/email-accounts', { token: t.key, body: { email_address: 'dup@validation.test' } })
    await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email: 'lead@validation.test' } })
    const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
    if (m.status !== 201) throw new Error(`fixture message: ${m.status}`)
    f = { ...t, campaignId: campaign.body.id, messageId: m.body.id }
  })

  for (const c of cases) {
    test(`${c.name}: ${c.status}${c.field ? ` naming ${c.field}` : ''}, nothing written`, async () => {
      const before = await rowCounts(sys)
      const token = { tenant: f.key, admin: ADMIN_TOKEN, none: undefined, wrong: 'edp_wrong' }[c.token ?? 'tenant']
      const r = await call(sys, c.method, c.path(f), { token, body: c.body?.(f), rawBody: c.rawBody, headers: c.headers })
      expect(r.status).toBe(c.status)
      expect(r.headers.get('content-type')).toBe('application/problem+json')
      expect(r.body).toMatchObject({ status: c.status, title: expect.any(String), detail: expect.any(String), request_id: expect.any(String) })
      if (c.field) expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(c.field)
      expect(JSON.stringify(r.body)).not.toMatch(/SELECT|INSERT|ZodError|at .*\.ts:\d+/)
      expect(await rowCounts(sys)).toEqual(before)
    })
  }

  test('an oversized body answers 413 before anything is parsed or written', async () => {
    const before = await rowCounts(sys)
    const huge = 'x'.repeat(sys.deps.config.MAX_BODY_BYTES + 10)
    const r = await call(sys, 'POST', '/v1/messages', { token: f.key, body: valid(f, { content_text: huge }) })
    expect(r.status).toBe(413)
    expect(r.body.status).toBe(413)
    expect(await rowCounts(sys)).toEqual(before)
  })
})
