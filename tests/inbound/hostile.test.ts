/**
 * Hostile input never crashes anything or answers 5xx: it is stored as best parsed, or refused
 * with a 4xx that leaves no trace in any tier.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem(testConfig({ INBOUND_MAX_BYTES: String(1024 * 1024) }))
let t: TenantFixture

const enc = (s: string) => new TextEncoder().encode(s)
const join = (...parts: (string | Uint8Array)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? enc(p) : p)))
const head = (extra = '') => `From: x@example.com\nTo: sales-1@hostile.test\nMessage-ID: <${crypto.randomUUID()}@example.com>\n${extra}`

function nestedRfc822(depth: number): string {
  let inner = `${head()}Subject: innermost\n\nbottom\n`
  for (let i = 0; i < depth; i++) inner = `${head()}Subject: level ${i}\nContent-Type: message/rfc822\n\n${inner}`
  return inner
}

function nestedMultipart(depth: number): string {
  let body = 'Content-Type: text/plain\n\ndeep\n'
  for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n${body}\n--b${i}--\n`
  return `${head()}Subject: nested\n${body}`
}

const cases: [name: string, raw: () => Uint8Array, expected: 'stored' | number][] = [
  ['truncated multipart, base64 cut mid-line', () => enc(`${head()}Subject: cut\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQKJcOkw7zD`), 'stored'],
  ['an unknown charset', () => enc(`${head()}Subject: klingon\nContent-Type: text/plain; charset=x-klingon\n\nqapla'\n`), 'stored'],
  ['8-bit body without a charset', () => join(`${head()}Subject: raw\n\n`, new Uint8Array([0xe9, 0xe8, 0xff, 0x0a])), 'stored'],
  ['8-bit bytes in headers', () => join(head(), 'Subject: caf', new Uint8Array([0xe9, 0xff]), '\n\nbody\n'), 'stored'],
  ['NUL bytes in a header and the body', () => enc(`${head()}Subject: a\u0000b\n\nnul\u0000here\n`), 'stored'],
  ['an endless header line', () => enc(`${head()}Subject: ${'a'.repeat(300_000)}\n\nbody\n`), 422],
  ['message/rfc822 nested 40 deep', () => enc(nestedRfc822(40)), 'stored'],
  ['multipart nested 200 deep', () => enc(nestedMultipart(200)), 422],
  ['base64 that decodes past the size limit', () => enc(`${head()}Subject: big\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${'QUFB'.repeat(400_000)}\n`), 413],
  ['no headers at all', () => enc('just some bytes\n'), 'stored'],
  ['an empty body', () => new Uint8Array(0), 422],
]

describe('hostile inbound mail', () => {
  beforeAll(async () => {
    t = await createTenant(sys, 'hostile')
  })

  for (const [name, raw, expected] of cases) {
    test(`${name}: ${expected === 'stored' ? 'stored as best parsed' : expected}`, async () => {
      const before = await rowCounts(sys)
      const r = await call(sys, 'POST', `/v1/inbound?email_account_id=${t.accountId}`, {
        token: t.key,
        rawBody: raw(),
        headers: { 'content-type': 'message/rfc822' },
      })
      expect(r.status).toBeLessThan(500)
      if (expected === 'stored') {
        expect(r.status).toBe(201)
        const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
        expect(detail.status).toBe(200)
      } else {
        expect(r.status).toBe(expected)
        expect(r.headers.get('content-type')).toBe('application/problem+json')
        expect(await rowCounts(sys)).toEqual(before)
      }
    })
  }

  test('the wrong content type is 415 and writes nothing', async () => {
    const before = await rowCounts(sys)
    const r = await call(sys, 'POST', '/v1/inbound', { token: t.key, rawBody: `${head()}\nhi\n`, headers: { 'content-type': 'text/plain' } })
    expect(r.status).toBe(415)
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('a message for none of the tenant’s mailboxes is 422 naming email_account_id', async () => {
    const before = await rowCounts(sys)
    const r = await call(sys, 'POST', '/v1/inbound', {
      token: t.key,
      rawBody: 'From: x@example.com\nTo: someone@else.test\nSubject: x\n\nhi\n',
      headers: { 'content-type': 'message/rfc822' },
    })
    expect(r.status).toBe(422)
    expect(r.body.errors[0].field).toBe('email_account_id')
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('another tenant’s mailbox id is 404', async () => {
    const other = await createTenant(sys, 'hostile-other')
    const r = await call(sys, 'POST', `/v1/inbound?email_account_id=${other.accountId}`, {
      token: t.key,
      rawBody: `${head()}Subject: x\n\nhi\n`,
      headers: { 'content-type': 'message/rfc822' },
    })
    expect(r.status).toBe(404)
  })
})
