/**
 * Stored content is served so that a browser opening the link never runs it as our page: only
 * inert types inline, everything else as a download with a safe file name, and nosniff plus a
 * sandbox CSP on every response that carries content. Header-bound text with CR/LF is refused.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem()
let t: TenantFixture

const b64 = (s: string) => Buffer.from(s).toString('base64')

function expectSandboxed(headers: Headers) {
  expect(headers.get('x-content-type-options')).toBe('nosniff')
  const csp = headers.get('content-security-policy') ?? ''
  expect(csp).toContain('sandbox')
  expect(csp).toContain("default-src 'none'")
}

async function storeWith(attachments: unknown[]) {
  const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { attachments }) })
  expect(r.status).toBe(201)
  const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
  return { id: r.body.id as string, attachments: detail.body.attachments as { id: string; filename: string; mime_type: string }[] }
}

beforeAll(async () => {
  t = await createTenant(sys, 'content-safety')
})

describe('attachment downloads', () => {
  // Every one asks to be inline; only the inert types are allowed to be.
  const cases: [type: string, disposition: 'inline' | 'attachment'][] = [
    ['text/html', 'attachment'],
    ['image/svg+xml', 'attachment'],
    ['application/xml', 'attachment'],
    ['text/xml', 'attachment'],
    ['application/xhtml+xml', 'attachment'],
    ['application/javascript', 'attachment'],
    ['application/pdf', 'attachment'],
    ['image/png', 'inline'],
    ['image/jpeg', 'inline'],
    ['text/plain', 'inline'],
  ]

  test.each(cases)('%s asked inline is served %s, with nosniff and a sandbox CSP', async (type, expected) => {
    const m = await storeWith([{ filename: 'file', mime_type: type, content_base64: b64('<script>alert(1)</script>'), storage_disposition: 'inline' }])
    const r = await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${m.attachments[0]!.id}`, { token: t.key })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-disposition')!.split(';')[0]).toBe(expected)
    expectSandboxed(r.headers)
  })

  test('an inert type not asked inline stays an attachment', async () => {
    const m = await storeWith([{ filename: 'logo.png', mime_type: 'image/png', content_base64: b64('png') }])
    const r = await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${m.attachments[0]!.id}`, { token: t.key })
    expect(r.headers.get('content-disposition')!.startsWith('attachment;')).toBe(true)
  })

  test('a row stored before types and names were cleaned (an invalid header value) still downloads, safely', async () => {
    const m = await storeWith([{ filename: 'x.png', mime_type: 'image/png', content_base64: b64('png'), storage_disposition: 'inline' }])
    await sys.tiers.content.query(`UPDATE content.attachments SET mime_type = $2, filename = $3 WHERE id = $1`, [
      m.attachments[0]!.id,
      'image/png\u2713',
      '../\u202Egpj.exe',
    ])
    const r = await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${m.attachments[0]!.id}`, { token: t.key })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/octet-stream')
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="gpj.exe"; filename*=UTF-8''gpj.exe`)
    expectSandboxed(r.headers)
  })

  test('Content-Disposition: RFC 6266 filename* in UTF-8 (RFC 5987 characters only) and a plain ASCII fallback', async () => {
    const m = await storeWith([{ filename: "Prix d'été (v2) *final* 100%.txt", mime_type: 'text/plain', content_base64: b64('x') }])
    const r = await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${m.attachments[0]!.id}`, { token: t.key })
    const cd = r.headers.get('content-disposition')!
    expect(cd).toBe(
      `attachment; filename="Prix d'_t_ (v2) *final* 100_.txt"; filename*=UTF-8''Prix%20d%27%C3%A9t%C3%A9%20%28v2%29%20%2Afinal%2A%20100%25.txt`,
    )
  })
})

describe('file names through the API', () => {
  test('directory parts, controls and bidi overrides are stripped; nothing left becomes "attachment"; long names keep their extension', async () => {
    const long = `${'r'.repeat(250)}.pdf`
    const names = ['../../etc/passwd', '..\\..\\boot.ini', 'invoice\u202Efdp.exe', 'a\u0007b\u200Fc\u2066d.txt', '../', '..', long]
    const m = await storeWith(names.map((filename) => ({ filename, mime_type: 'application/octet-stream', content_base64: '' })))
    const stored = m.attachments.map((a) => a.filename)
    expect(stored.slice(0, 6)).toEqual(['passwd', 'boot.ini', 'invoicefdp.exe', 'abcd.txt', 'attachment', 'attachment'])
    expect(stored[6]!.length).toBe(200)
    expect(stored[6]!.endsWith('r.pdf')).toBe(true)
    const r = await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${m.attachments[2]!.id}`, { token: t.key })
    expect(r.headers.get('content-disposition')).not.toContain('%E2%80%AE')
  })
})

describe('bodies and records carrying content', () => {
  test('message detail, message content, a transactional email and notifications carry nosniff and a sandbox CSP', async () => {
    const m = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { content_html: '<script>alert(1)</script>' }),
    })
    const tx = await call(sys, 'POST', '/v1/transactional-emails', {
      token: t.key,
      body: { to_email: 'a@example.com', from_email: 'b@example.com', subject: 'Receipt', content_html: '<script>x</script>' },
    })
    await call(sys, 'POST', '/v1/notifications', { token: t.key, body: { title: 'Hi', body: '<script>x</script>' } })
    for (const path of [`/v1/messages/${m.body.id}`, `/v1/messages/${m.body.id}/content`, `/v1/transactional-emails/${tx.body.id}`, '/v1/notifications']) {
      const r = await call(sys, 'GET', path, { token: t.key })
      expect(r.status).toBe(200)
      expectSandboxed(r.headers)
    }
  })
})

describe('header-bound text refuses CR, LF and other controls', () => {
  const crlf = 'Hello\r\nBcc: victim@example.com'
  const cases: [name: string, path: (f: { campaignId: string }) => string, body: () => unknown, field: string][] = [
    ['message subject', () => '/v1/messages', () => messageBody(t.accountId, { subject: crlf }), 'subject'],
    ['message subject with a bare LF', () => '/v1/messages', () => messageBody(t.accountId, { subject: 'a\nb' }), 'subject'],
    ['message subject with a C1 control', () => '/v1/messages', () => messageBody(t.accountId, { subject: 'a\u0085b' }), 'subject'],
    ['message header value', () => '/v1/messages', () => messageBody(t.accountId, { headers: [{ name: 'X-A', value: crlf }] }), 'headers.0.value'],
    ['message header value (object form)', () => '/v1/messages', () => messageBody(t.accountId, { headers: { 'X-A': 'a\rb' } }), 'headers.X-A'],
    ['message Message-ID', () => '/v1/messages', () => messageBody(t.accountId, { rfc822_message_id: '<a\u0001b@x>' }), 'rfc822_message_id'],
    ['transactional subject', () => '/v1/transactional-emails', () => ({ to_email: 'a@example.com', from_email: 'b@example.com', subject: crlf }), 'subject'],
    ['transactional header value', () => '/v1/transactional-emails', () => ({ to_email: 'a@example.com', from_email: 'b@example.com', subject: 's', headers: [{ name: 'X-A', value: crlf }] }), 'headers.0.value'],
    ['email account display name', () => '/v1/email-accounts', () => ({ email_address: 'crlf@content-safety.test', display_name: crlf }), 'display_name'],
    ['lead first name', () => '/v1/leads', () => ({ email: 'crlf@content-safety.test', first_name: crlf }), 'first_name'],
    ['sequence step subject', (f) => `/v1/campaigns/${f.campaignId}/steps`, () => ({ step_number: 1, subject: crlf }), 'subject'],
    ['notification title', () => '/v1/notifications', () => ({ title: crlf }), 'title'],
  ]
  let campaignId = ''
  beforeAll(async () => {
    campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'crlf' } })).body.id
  })

  test.each(cases)('%s: 422 naming the field, nothing written', async (_, path, body, field) => {
    const before = await rowCounts(sys)
    const r = await call(sys, 'POST', path({ campaignId }), { token: t.key, body: body() })
    expect(r.status).toBe(422)
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field)
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('TAB is allowed in a subject and a header value', async () => {
    const r = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { subject: 'a\tb', headers: [{ name: 'X-A', value: 'c\td' }] }),
    })
    expect(r.status).toBe(201)
    expect(r.body.subject).toBe('a\tb')
  })
})
