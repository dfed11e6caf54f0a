/**
 * What a hostile sender puts in a mail's types, names and header text is stored in a safe form
 * and always downloadable; caps on headers and attachments hold for inbound mail as for the API.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'
import { MAX_ATTACHMENTS, MAX_HEADERS } from '../../src/limits.ts'

const sys = useSystem()
let t: TenantFixture

const head = (extra = '') => `From: x@example.com\r\nTo: y@example.com\r\nMessage-ID: <${crypto.randomUUID()}@example.com>\r\n${extra}`

function withParts(parts: { type: string; filename?: string }[], extra = '') {
  const body = parts.map(
    (p) =>
      `--zz\r\nContent-Type: ${p.type}\r\nContent-Disposition: attachment${p.filename === undefined ? '' : `; filename="${p.filename}"`}\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n`,
  )
  return `${head(extra)}Subject: parts\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhi\r\n${body.join('')}--zz--\r\n`
}

const post = (raw: string) =>
  call(sys, 'POST', `/v1/inbound?email_account_id=${t.accountId}`, {
    token: t.key,
    rawBody: new TextEncoder().encode(raw),
    headers: { 'content-type': 'message/rfc822' },
  })

beforeAll(async () => {
  t = await createTenant(sys, 'inbound-safety')
})

describe('attachment types and names from inbound mail', () => {
  const malformed = ['text/ht ml', '"><script>', 'image/png\u2713', 'image/\u202Epng', 'text/html\u0001x', 'foo', '']

  test.each(malformed.map((m) => [JSON.stringify(m), m]))('type %s is stored as application/octet-stream and downloads', async (_, type) => {
    const r = await post(withParts([{ type, filename: 'a.bin' }]))
    expect(r.status).toBe(201)
    const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
    const [a] = detail.body.attachments
    expect(a.mime_type).toBe('application/octet-stream')
    const file = await call(sys, 'GET', `/v1/messages/${r.body.id}/attachments/${a.id}`, { token: t.key })
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('application/octet-stream')
    expect(new TextDecoder().decode(file.raw)).toBe('hello')
  })

  test('a well-formed type is kept, lower-cased; SVG is never served inline even as an inline part', async () => {
    const raw = withParts([{ type: 'Image/SVG+XML', filename: 'logo.svg' }]).replace('Content-Disposition: attachment', 'Content-Disposition: inline')
    const r = await post(raw)
    const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
    const [a] = detail.body.attachments
    expect(a.mime_type).toBe('image/svg+xml')
    const file = await call(sys, 'GET', `/v1/messages/${r.body.id}/attachments/${a.id}`, { token: t.key })
    expect(file.headers.get('content-disposition')!.startsWith('attachment;')).toBe(true)
    expect(file.headers.get('x-content-type-options')).toBe('nosniff')
  })

  test('file names lose directory parts, controls and bidi overrides; one with nothing left becomes "attachment"', async () => {
    // Backslashes doubled: a quoted MIME parameter reads "\\" as one.
    const names = ['../../etc/\u202Epasswd\u0007.txt', '..\\\\..\\\\win.ini', '\u2066\u2069', '']
    const r = await post(withParts(names.map((filename) => ({ type: 'application/octet-stream', filename }))))
    expect(r.status).toBe(201)
    const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
    expect(detail.body.attachments.map((a: { filename: string }) => a.filename)).toEqual(['passwd.txt', 'win.ini', 'attachment', 'part-4'])
  })
})

describe('header text from inbound mail', () => {
  test('CR, LF and controls decoded from encoded-words are stored as spaces, never a 500', async () => {
    const crlf = '=?utf-8?q?Hello=0D=0ABcc:_victim@example.com=07?='
    const r = await post(`${head(`X-Note: ${crlf}\r\n`)}Subject: ${crlf}\r\n\r\nbody\r\n`)
    expect(r.status).toBe(201)
    expect(r.body.subject).toBe('Hello  Bcc: victim@example.com ')
    const content = await call(sys, 'GET', `/v1/messages/${r.body.id}/content`, { token: t.key })
    const note = content.body.headers.find((h: { name: string }) => h.name.toLowerCase() === 'x-note')
    expect(note.value).not.toMatch(/[\r\n\x07]/)
    for (const h of content.body.headers) expect(`${h.name}${h.value}`).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/)
  })
})

describe('caps hold for inbound mail as for the API', () => {
  test(`more than ${MAX_ATTACHMENTS} attachments: 422 naming attachments, nothing stored`, async () => {
    const before = await rowCounts(sys)
    const r = await post(withParts(Array.from({ length: MAX_ATTACHMENTS + 50 }, (_, i) => ({ type: 'text/plain', filename: `${i}.txt` }))))
    expect(r.status).toBe(422)
    expect(r.body.errors[0].field).toBe('attachments')
    expect(await rowCounts(sys)).toEqual(before)
  })

  test(`more than ${MAX_HEADERS} header fields: 422 naming headers, nothing stored`, async () => {
    const before = await rowCounts(sys)
    const many = Array.from({ length: MAX_HEADERS + 10 }, (_, i) => `Received: from relay-${i}.example.com\r\n`).join('')
    const r = await post(`${head(many)}Subject: hops\r\n\r\nbody\r\n`)
    expect(r.status).toBe(422)
    expect(r.body.errors[0].field).toBe('headers')
    expect(await rowCounts(sys)).toEqual(before)
  })

  test(`exactly ${MAX_ATTACHMENTS} attachments are stored`, async () => {
    const r = await post(withParts(Array.from({ length: MAX_ATTACHMENTS }, (_, i) => ({ type: 'text/plain', filename: `${i}.txt` }))))
    expect(r.status).toBe(201)
    const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
    expect(detail.body.attachments.length).toBe(MAX_ATTACHMENTS)
  })
})
