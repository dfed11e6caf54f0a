/**
 * Invariant 4: a tenant can never read, list, change or detect another tenant's data. Tenant B
 * calls every route with tenant A's ids; each answers exactly as for an id that does not exist
 * (404), and no table changes.
 */
import { describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem()

describe('tenant isolation', () => {
  test('every route answers 404 for another tenant’s ids and changes nothing', async () => {
    const a = await createTenant(sys, 'alpha')
    const b = await createTenant(sys, 'beta')
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: a.key, body: { name: 'A only' } })
    const step = await call(sys, 'POST', `/v1/campaigns/${campaign.body.id}/steps`, { token: a.key, body: { step_number: 1 } })
    const lead = await call(sys, 'POST', '/v1/leads', { token: a.key, body: { email: 'lead@alpha.test' } })
    const msg = await call(sys, 'POST', '/v1/messages', {
      token: a.key,
      body: messageBody(a.accountId, {
        lead_id: lead.body.id,
        sequence_step_id: step.body.id,
        attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: 'c2VjcmV0' }],
      }),
    })
    expect(msg.status).toBe(201)
    const detail = await call(sys, 'GET', `/v1/messages/${msg.body.id}`, { token: a.key })
    const attachmentId = detail.body.attachments[0].id

    const before = await rowCounts(sys)
    const missing = '01900000-0000-7000-8000-000000000000'
    const alphaIds = [msg.body.id, campaign.body.id, step.body.id, lead.body.id, a.accountId, attachmentId]
    const withoutAlpha = (s: string) => alphaIds.reduce((acc, id) => acc.replaceAll(id, missing), s)
    const probes: [string, string, unknown?][] = [
      ['GET', `/v1/messages/${msg.body.id}`],
      ['GET', `/v1/messages/${msg.body.id}/content`],
      ['GET', `/v1/messages/${msg.body.id}/thread`],
      ['GET', `/v1/messages/${msg.body.id}/attachments/${attachmentId}`],
      ['POST', `/v1/campaigns/${campaign.body.id}/steps`, { step_number: 2 }],
      ['GET', `/v1/campaigns/${campaign.body.id}/steps`],
      ['POST', '/v1/messages', messageBody(a.accountId)],
      ['POST', '/v1/messages', messageBody(b.accountId, { campaign_id: campaign.body.id })],
      ['POST', '/v1/messages', messageBody(b.accountId, { sequence_step_id: step.body.id })],
      ['POST', '/v1/messages', messageBody(b.accountId, { lead_id: lead.body.id })],
      ['POST', '/v1/messages', messageBody(b.accountId, { parent_message_id: msg.body.id })],
    ]
    for (const [method, path, body] of probes) {
      const foreign = await call(sys, method, path, { token: b.key, body })
      expect({ path, body, status: foreign.status }).toEqual({ path, body, status: 404 })
      expect(foreign.headers.get('content-type')).toBe('application/problem+json')
      // Indistinguishable from an id that never existed.
      const absent = await call(sys, method, withoutAlpha(path), { token: b.key, body: body && JSON.parse(withoutAlpha(JSON.stringify(body))) })
      expect(absent.status).toBe(404)
      expect(absent.body.detail).toBe(foreign.body.detail)
    }
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('lists only ever show the caller’s own rows', async () => {
    const a = await createTenant(sys, 'gamma')
    const b = await createTenant(sys, 'delta')
    await call(sys, 'POST', '/v1/messages', { token: a.key, body: messageBody(a.accountId) })
    await call(sys, 'POST', '/v1/campaigns', { token: a.key, body: { name: 'A' } })
    await call(sys, 'POST', '/v1/leads', { token: a.key, body: { email: 'x@gamma.test' } })
    for (const path of ['/v1/messages', '/v1/campaigns', '/v1/leads', `/v1/messages?email_account_id=${a.accountId}`]) {
      const list = await call(sys, 'GET', path, { token: b.key })
      expect(list.status).toBe(200)
      expect(list.body.data.filter((r: any) => r.tenant_id !== b.id)).toEqual([])
    }
    const accounts = await call(sys, 'GET', '/v1/email-accounts', { token: b.key })
    expect(accounts.body.data.map((r: any) => r.id)).toEqual([b.accountId])
  })
})
