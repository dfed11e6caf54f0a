/** GET /v1/storage (per tenant) and /v1/admin/storage (every tenant) add up what was written. */
import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'

const sys = useSystem()

describe('storage report', () => {
  test('counts bodies raw and as stored, and attachments with their distinct contents', async () => {
    const a = await createTenant(sys, 'store-a')
    const b = await createTenant(sys, 'store-b')
    const big = 'The quarterly report is attached; numbers are up again. '.repeat(100)
    const file = { filename: 'q.csv', mime_type: 'text/csv', content_base64: Buffer.from('a,b\n1,2\n').toString('base64') }
    await call(sys, 'POST', '/v1/messages', { token: a.key, body: messageBody(a.accountId, { content_text: big, attachments: [file] }) })
    await call(sys, 'POST', '/v1/messages', { token: a.key, body: messageBody(a.accountId, { content_text: 'hi', attachments: [file] }) })
    await call(sys, 'POST', '/v1/messages', { token: b.key, body: messageBody(b.accountId, { content_text: 'other tenant' }) })

    const mine = await call(sys, 'GET', '/v1/storage', { token: a.key })
    expect(mine.status).toBe(200)
    expect(mine.body).toMatchObject({
      objects: 2,
      raw_bytes: Buffer.byteLength(big) + 2,
      archived_objects: 0,
      expired_objects: 0,
      attachments: { count: 2, unique_blobs: 1, raw_bytes: 16 },
    })
    expect(mine.body.stored_bytes).toBeLessThan(mine.body.raw_bytes / 5) // the big body is compressed

    expect((await call(sys, 'GET', '/v1/admin/storage', { token: a.key })).status).toBe(401)
    const all = await call(sys, 'GET', '/v1/admin/storage', { token: ADMIN_TOKEN })
    expect(all.body.objects).toBe(3)
    expect(all.body.raw_bytes).toBe(mine.body.raw_bytes + Buffer.byteLength('other tenant'))
  })
})
