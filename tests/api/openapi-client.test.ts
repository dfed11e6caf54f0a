/**
 * A client generated from the OpenAPI document works: openapi-fetch typed by the committed
 * openapi-typescript output (./openapi.gen.ts) drives the walkthrough against the live app,
 * in-process. Paths, parameters, bodies and answers are checked by `tsc` against the document, so
 * a route whose schema and behaviour drift apart fails here or in the typecheck.
 */
import { describe, expect, test } from 'bun:test'
import createClient from 'openapi-fetch'
import type { components, paths } from './openapi.gen.ts'
import { drainQueues } from '../support/queues.ts'
import { ADMIN_TOKEN, useSystem } from '../support/system.ts'

const sys = useSystem()

const clientWith = (token: string) =>
  createClient<paths>({
    baseUrl: 'http://127.0.0.1:3000',
    headers: { authorization: `Bearer ${token}` },
    fetch: async (request) => sys.app.request(request),
  })

describe('a client generated from /openapi.json', () => {
  test('creates a tenant, a mailbox and a message, reads it back, reports an event and reads the analytics', async () => {
    const admin = clientWith(ADMIN_TOKEN)
    const created = await admin.POST('/v1/tenants', { body: { name: 'Typed Client Co' } })
    expect(created.response.status).toBe(201)
    const apiKey = created.data!.api_key
    expect(apiKey).toStartWith('edp_')

    const api = clientWith(apiKey)
    const mailbox = await api.POST('/v1/email-accounts', { body: { email_address: 'sales@typed-client.example', display_name: 'Sales' } })
    expect(mailbox.response.status).toBe(201)
    const mailboxId = mailbox.data!.id

    const body: components['schemas']['CreateMessage'] = {
      email_account_id: mailboxId,
      from_email: 'sales@typed-client.example',
      to_email: 'ravi@buyer.example',
      subject: 'Pricing for 40 seats',
      content_text: 'Hi Ravi, here is the quote we discussed.',
    }
    const message = await api.POST('/v1/messages', { body })
    expect(message.response.status).toBe(201)
    const messageId = message.data!.id

    const read = await api.GET('/v1/messages/{id}', { params: { path: { id: messageId } } })
    expect(read.response.status).toBe(200)
    expect(read.data!.content.content_text).toBe(body.content_text!)
    expect(read.data!.email_account_id).toBe(mailboxId)

    const occurred = new Date(Date.now() - 60_000).toISOString()
    const events = await api.POST('/v1/events', {
      body: { events: [{ event_id: `delivered-${messageId}`, message_id: messageId, type: 'delivered', occurred_at: occurred }] },
    })
    expect(events.response.status).toBe(202)
    expect(events.data).toEqual({ accepted: [`delivered-${messageId}`], rejected: [] })

    await drainQueues(sys)
    const report = await api.GET('/v1/analytics/email-accounts/{id}', { params: { path: { id: mailboxId } } })
    expect(report.response.status).toBe(200)
    expect(report.data).toMatchObject({ email_account_id: mailboxId, sent: 1, delivered: 1 })
    expect(report.data!.as_of).not.toBeNull()
  })

  test('an error comes back as the documented problem', async () => {
    const api = clientWith('edp_not-a-key')
    const r = await api.GET('/v1/messages/{id}', { params: { path: { id: '019cb2b6-383c-7bf3-90b0-090d62590992' } } })
    expect(r.response.status).toBe(401)
    expect(r.response.headers.get('content-type')).toBe('application/problem+json')
    const problem: components['schemas']['Problem'] | undefined = r.error
    expect(problem).toMatchObject({ status: 401, type: 'urn:edp:problem:unauthorized' })
  })
})
