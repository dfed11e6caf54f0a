/**
 * One set of caps (src/limits.ts) on what a message, transactional email or notification may
 * carry: over a cap is a 422 naming the field, and nothing is written. Base64 attachments are
 * checked by a linear scan, so large valid files go through and bad ones are named.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_HEADER_BYTES, MAX_HEADERS, MAX_METADATA_BYTES } from '../../src/limits.ts'

// Room for a base64 attachment just over MAX_ATTACHMENT_BYTES, so that cap (not the body limit) answers.
const sys = useSystem(testConfig({ MAX_BODY_BYTES: String(Math.ceil(MAX_ATTACHMENT_BYTES * 1.4)) }))
let t: TenantFixture

const attachment = (content_base64: string) => ({ filename: 'file.bin', mime_type: 'application/octet-stream', content_base64 })

/** POSTs and expects a 422 naming `field` with nothing written in any tier. */
async function refused(path: string, body: unknown, field: string) {
  const before = await rowCounts(sys)
  const r = await call(sys, 'POST', path, { token: t.key, body })
  expect(r.status).toBe(422)
  expect(r.headers.get('content-type')).toBe('application/problem+json')
  expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field)
  expect(await rowCounts(sys)).toEqual(before)
  return r
}

beforeAll(async () => {
  t = await createTenant(sys, 'input-limits')
})

describe('base64 attachments', () => {
  // PGlite passes a bytea parameter as text (about 0.4 s per MB here), hence the longer timeout.
  test('a valid 8 MB attachment is accepted and comes back byte for byte', async () => {
    const bytes = randomBytes(8 * 1024 * 1024)
    const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { attachments: [attachment(bytes.toString('base64'))] }) })
    expect(r.status).toBe(201)
    const detail = await call(sys, 'GET', `/v1/messages/${r.body.id}`, { token: t.key })
    const file = await call(sys, 'GET', `/v1/messages/${r.body.id}/attachments/${detail.body.attachments[0].id}`, { token: t.key })
    expect(Buffer.from(file.raw).equals(bytes)).toBe(true)
  }, 120_000)

  const bad: [name: string, value: string][] = [
    ['a character outside the alphabet', 'aGVs#G8='],
    ['URL-safe alphabet', 'a-_b'],
    ['a line break', 'aGVs\nbG8='],
    ['no padding', 'aGVsbG8'],
    ['padding in the middle', 'aG==bG8='],
    ['three padding characters', 'aG8==='],
    ['a bad character at the end of a large value', `${'QUFB'.repeat(1_000_000)}QU!B`],
  ]
  test.each(bad)('%s: 422 naming the field', async (_, value) => {
    const r = await refused('/v1/messages', messageBody(t.accountId, { attachments: [attachment('aGVsbG8='), attachment(value)] }), 'attachments.1.content_base64')
    expect(r.body.errors[0].message).toContain('base64')
  })

  test(`an attachment over ${MAX_ATTACHMENT_BYTES} decoded bytes: 422 naming it`, async () => {
    const value = 'QUFB'.repeat(Math.floor(MAX_ATTACHMENT_BYTES / 3) + 1)
    const r = await refused('/v1/messages', messageBody(t.accountId, { attachments: [attachment(value)] }), 'attachments.0.content_base64')
    expect(r.body.errors[0].message).toContain(String(MAX_ATTACHMENT_BYTES))
  })
})

describe('caps', () => {
  test(`more than ${MAX_ATTACHMENTS} attachments: 422 naming attachments`, async () => {
    await refused('/v1/messages', messageBody(t.accountId, { attachments: Array.from({ length: MAX_ATTACHMENTS + 1 }, () => attachment('')) }), 'attachments')
  })

  test(`more than ${MAX_HEADERS} header fields, given as an object of lists: 422 naming headers`, async () => {
    const headers = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`X-H${i}`, Array.from({ length: 50 }, (_, j) => `v${j}`)]))
    await refused('/v1/messages', messageBody(t.accountId, { headers }), 'headers')
  })

  const bigHeaders = Array.from({ length: Math.ceil(MAX_HEADER_BYTES / 16_000) + 1 }, (_, i) => ({ name: `X-Big-${i}`, value: 'v'.repeat(16_000) }))

  test(`more than ${MAX_HEADER_BYTES} bytes of headers: 422 naming headers`, async () => {
    await refused('/v1/messages', messageBody(t.accountId, { headers: bigHeaders }), 'headers')
  })

  test('a transactional email is held to the same header caps', async () => {
    await refused('/v1/transactional-emails', { to_email: 'a@example.com', from_email: 'b@example.com', subject: 's', headers: bigHeaders }, 'headers')
  })

  test(`notification data over ${MAX_METADATA_BYTES} bytes as JSON: 422 naming data`, async () => {
    await refused('/v1/notifications', { title: 'Hi', data: { blob: 'x'.repeat(MAX_METADATA_BYTES) } }, 'data')
  })

  test('at the caps, everything is accepted', async () => {
    const headers = Array.from({ length: MAX_HEADERS }, (_, i) => ({ name: 'Received', value: `from relay-${i}` }))
    const attachments = Array.from({ length: MAX_ATTACHMENTS }, () => attachment('aGVsbG8='))
    const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { headers, attachments }) })
    expect(m.status).toBe(201)
    const n = await call(sys, 'POST', '/v1/notifications', { token: t.key, body: { title: 'Hi', data: { blob: 'x'.repeat(MAX_METADATA_BYTES - 20) } } })
    expect(n.status).toBe(201)
  })
})
