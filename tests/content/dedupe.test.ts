/**
 * Attachment dedupe: bytes stored once per tenant and sha256, never shared across tenants, never
 * removed while another message still references them, also under concurrent writes and deletes.
 */
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { ADMIN_TOKEN, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { runVisible } from '../support/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { newId, sha256Hex } from '../../src/ids.ts'
import { insertAttachments } from '../../src/tiers/content/attachments.ts'

const sys = useSystem()
const file = randomBytes(100_000)
const attachment = (bytes: Buffer = file) => ({ filename: 'deck.pdf', mime_type: 'application/pdf', content_base64: bytes.toString('base64') })

async function send(t: TenantFixture, bytes?: Buffer) {
  const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { attachments: [attachment(bytes)] }) })
  expect(r.status).toBe(201)
  return r.body as { id: string; content_storage_key: string }
}

const storage = async (t: TenantFixture) => (await call(sys, 'GET', '/v1/storage', { token: t.key })).body.attachments
const age = (key: string) => sys.tiers.content.query(`UPDATE content.content_objects SET expires = now() - interval '1 minute' WHERE storage_key = $1`, [key])

/** A message's own pending event protects its content: events are applied first, then expiry runs. */
async function expireNow() {
  await runVisible(sys)
  await enqueue(sys.tiers.queue, 'content.expire', { batch_size: 500 })
  await runVisible(sys)
}

async function download(t: TenantFixture, messageId: string) {
  const detail = await call(sys, 'GET', `/v1/messages/${messageId}`, { token: t.key })
  if (detail.status !== 200) return detail.status
  const r = await call(sys, 'GET', `/v1/messages/${messageId}/attachments/${detail.body.attachments[0].id}`, { token: t.key })
  return r.status === 200 ? Buffer.from(r.raw) : r.status
}

describe('attachment dedupe', () => {
  test('the same file on 30 messages is stored once; tenants never share bytes', async () => {
    const a = await createTenant(sys, 'dedupe-a')
    const b = await createTenant(sys, 'dedupe-b')
    const blobsEverywhere = async () => (await call(sys, 'GET', '/v1/admin/storage', { token: ADMIN_TOKEN })).body.attachments.unique_blobs
    const before = await blobsEverywhere()
    for (let i = 0; i < 30; i++) await send(a)
    await send(b)
    // Stored once per tenant, sealed: the bytes plus AES-GCM's 16-byte tag.
    expect(await storage(a)).toEqual({ count: 30, unique_blobs: 1, raw_bytes: 3_000_000, stored_bytes: 100_016 })
    expect(await storage(b)).toEqual({ count: 1, unique_blobs: 1, raw_bytes: 100_000, stored_bytes: 100_016 })
    expect(await blobsEverywhere()).toBe(before + 2) // one each: the same bytes, never shared across tenants
  }, 60_000) // 31 messages of 100 KB: seconds on a loaded machine

  test('expiring one message keeps the bytes another still references; the last one frees them', async () => {
    const t = await createTenant(sys, 'dedupe-expire')
    const bytes = randomBytes(5_000)
    const first = await send(t, bytes)
    const second = await send(t, bytes)
    await age(first.content_storage_key)
    await expireNow()
    expect(await download(t, first.id)).toBe(410)
    expect((await download(t, second.id)) as Buffer).toEqual(bytes)
    expect(await storage(t)).toMatchObject({ unique_blobs: 1 })
    await age(second.content_storage_key)
    await expireNow()
    expect(await storage(t)).toMatchObject({ unique_blobs: 0, stored_bytes: 0 })
  })

  test('concurrent writes and expiries of one file never leave a live message without its bytes', async () => {
    const t = await createTenant(sys, 'dedupe-race')
    const bytes = randomBytes(20_000)
    const old = await Promise.all(Array.from({ length: 6 }, () => send(t, bytes)))
    for (const m of old) await age(m.content_storage_key)
    // Expiry and blob collection run while new messages attach the same bytes.
    const [fresh] = await Promise.all([Promise.all(Array.from({ length: 12 }, () => send(t, bytes))), expireNow(), expireNow()])
    await expireNow()
    for (const m of fresh) expect((await download(t, m.id)) as Buffer).toEqual(bytes)
    for (const m of old) expect(await download(t, m.id)).toBe(410)
    expect(await storage(t)).toMatchObject({ count: 18, unique_blobs: 1, stored_bytes: 20_016 })
  }, 60_000)

  test('one multi-row write naming the same file several times (a group, a batch) stores one blob and every attachment row', async () => {
    const t = await createTenant(sys, 'dedupe-one-statement')
    const m = await send(t)
    const same = randomBytes(3_000)
    const other = randomBytes(3_000)
    const file = (bytes: Buffer, name: string) => ({
      tenantId: t.id,
      parentKey: m.content_storage_key,
      a: { id: newId(), filename: name, mimeType: 'application/octet-stream', bytes, sha256: sha256Hex(bytes), storageDisposition: 'attachment' },
    })
    await sys.tiers.content.transaction((tx) => insertAttachments(tx, [file(same, 'a.bin'), file(other, 'b.bin'), file(same, 'c.bin')]))
    // The message's own file, plus three rows over two new blobs.
    expect(await storage(t)).toMatchObject({ count: 4, unique_blobs: 3 })
    const detail = await call(sys, 'GET', `/v1/messages/${m.id}`, { token: t.key })
    expect(detail.body.attachments.map((a: { filename: string }) => a.filename).sort()).toEqual(['a.bin', 'b.bin', 'c.bin', 'deck.pdf'])
  })
})
