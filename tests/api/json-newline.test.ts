/**
 * Every JSON answer ends with one newline (successes, problems, the OpenAPI document), sent with
 * a Content-Length that counts it; bytes that are not JSON (attachments), empty answers (204, 304)
 * and the content ETag are as they were.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { useSystem } from '../support/system.ts'

const sys = useSystem()
let t: TenantFixture
let server: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  t = await createTenant(sys)
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => sys.app.fetch(req) })
})
afterAll(() => server.stop(true))

const text = (raw: Uint8Array) => new TextDecoder().decode(raw)

describe('JSON answers end with a newline', () => {
  test('successes, problems and the OpenAPI document, each still one JSON document', async () => {
    const answers = [
      await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'Zoë’s list' } }),
      await call(sys, 'GET', '/v1/campaigns', { token: t.key }),
      await call(sys, 'GET', '/v1/campaigns/01900000-0000-7000-8000-000000000000', { token: t.key }),
      await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email: 'nope' } }),
      await call(sys, 'GET', '/v1/campaigns'),
      await call(sys, 'GET', '/openapi.json'),
      await call(sys, 'GET', '/health'),
    ]
    expect(answers.map((a) => a.status)).toEqual([201, 200, 404, 422, 401, 200, 200])
    for (const a of answers) {
      const body = text(a.raw)
      expect({ type: a.headers.get('content-type'), last: body.at(-1), secondLast: body.at(-2) === '\n' }).toEqual({
        type: expect.stringMatching(/json/),
        last: '\n',
        secondLast: false,
      })
      expect(JSON.parse(body)).toEqual(a.body)
    }
  })

  test('over HTTP, Content-Length counts the bytes sent, newline and multi-byte characters included', async () => {
    const res = await fetch(`${server.url}v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ünïcödé 山田' }),
    })
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(res.status).toBe(201)
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length)
    expect(bytes.at(-1)).toBe(0x0a)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  test('the content ETag still answers 304; attachment bytes and 204 are untouched', async () => {
    const msg = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { attachments: [{ filename: 'a.json', mime_type: 'application/json', content_base64: btoa('{"a":1}') }] }),
    })
    const content = await call(sys, 'GET', `/v1/messages/${msg.body.id}/content`, { token: t.key })
    expect(text(content.raw).endsWith('}\n')).toBe(true)
    const etag = content.headers.get('etag')!
    expect((await call(sys, 'GET', `/v1/messages/${msg.body.id}/content`, { token: t.key })).headers.get('etag')).toBe(etag)
    const cached = await call(sys, 'GET', `/v1/messages/${msg.body.id}/content`, { token: t.key, headers: { 'if-none-match': etag } })
    expect([cached.status, cached.raw.length, cached.headers.get('etag')]).toEqual([304, 0, etag])

    const detail = await call(sys, 'GET', `/v1/messages/${msg.body.id}`, { token: t.key })
    const attachment = await call(sys, 'GET', `/v1/messages/${msg.body.id}/attachments/${detail.body.attachments[0].id}`, { token: t.key })
    expect(text(attachment.raw)).toBe('{"a":1}')

    const c = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'to delete' } })
    const deleted = await call(sys, 'DELETE', `/v1/campaigns/${c.body.id}`, { token: t.key })
    expect([deleted.status, deleted.raw.length]).toEqual([204, 0])
  })
})
