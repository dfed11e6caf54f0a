import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { packBody, unpackBody } from '../../src/tiers/content/codec.ts'
import { messageKey } from '../../src/storage-keys.ts'
import { newId } from '../../src/ids.ts'
import { getMessageRef, insertMessageRef } from '../../src/tiers/oltp/messages.ts'

const sys = useSystem()

describe('message round trip', () => {
  test('stores content and attachments and returns them byte for byte', async () => {
    const t = await createTenant(sys, 'roundtrip')
    const pdf = randomBytes(70_000)
    const png = randomBytes(3_000)
    const html = `<html><body>${'<p>Hi Jane, following up on our call — ünïcödé ✓</p>'.repeat(400)}</body></html>`
    const created = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, {
        content_html: html,
        content_text: 'Hi Jane',
        headers: [
          { name: 'Received', value: 'from a' },
          { name: 'Received', value: 'from b' },
          { name: 'X-Campaign', value: 'q4' },
        ],
        attachments: [
          { filename: 'quote ü.pdf', mime_type: 'application/pdf', content_base64: pdf.toString('base64') },
          { filename: 'logo.png', mime_type: 'image/png', content_base64: png.toString('base64'), storage_disposition: 'inline' },
        ],
      }),
    })
    expect(created.status).toBe(201)
    expect(created.body.content_storage_key).toContain(created.body.id)
    expect(created.body.direction).toBe('outbound')

    const got = await call(sys, 'GET', `/v1/messages/${created.body.id}`, { token: t.key })
    expect(got.status).toBe(200)
    expect(got.body.content.content_html).toBe(html)
    expect(got.body.content.content_text).toBe('Hi Jane')
    expect(got.body.content.headers).toEqual([
      { name: 'Received', value: 'from a' },
      { name: 'Received', value: 'from b' },
      { name: 'X-Campaign', value: 'q4' },
    ])
    expect(got.body.attachments.map((a: any) => [a.filename, a.size_bytes])).toEqual([
      ['quote ü.pdf', 70_000],
      ['logo.png', 3_000],
    ])

    for (const [i, bytes] of [pdf, png].entries()) {
      const a = got.body.attachments[i]
      const file = await call(sys, 'GET', `/v1/messages/${created.body.id}/attachments/${a.id}`, { token: t.key })
      expect(file.status).toBe(200)
      expect(file.headers.get('content-type')).toBe(a.mime_type)
      expect(Buffer.from(file.raw).equals(bytes)).toBe(true)
    }
    const pdfReply = await call(sys, 'GET', `/v1/messages/${created.body.id}/attachments/${got.body.attachments[0].id}`, {
      token: t.key,
    })
    expect(pdfReply.headers.get('content-disposition')).toContain("filename*=UTF-8''quote%20%C3%BC.pdf")
  })

  test('compresses large bodies, keeps small ones plain, and says which honestly', async () => {
    const t = await createTenant(sys, 'compression')
    const big = 'Dear customer, your invoice is attached. '.repeat(200)
    const large = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: big }) })
    const small = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: 'ok' }) })
    const largeRow = await getContentObject(sys.tiers.content, t.id, large.body.content_storage_key)
    const smallRow = await getContentObject(sys.tiers.content, t.id, small.body.content_storage_key)
    expect(largeRow?.compression_type).toBe('zstd')
    expect(largeRow?.content_text).toBeNull()
    expect(largeRow?.raw_size_bytes).toBe(Buffer.byteLength(big))
    expect(largeRow!.content_text_packed!.length).toBeLessThan(big.length / 5)
    // Small bodies are not compressed, but sealed like every body: nothing plain in the row.
    expect(smallRow?.compression_type).toBe('none')
    expect(smallRow?.content_text).toBeNull()
    expect(smallRow!.content_text_packed!.length).toBe(2 + 16) // 'ok' and the GCM tag
    expect(smallRow?.key_id).toBe(largeRow!.key_id!)
    const back = await call(sys, 'GET', `/v1/messages/${large.body.id}/content`, { token: t.key })
    expect(back.body.content_text).toBe(big)
  })

  test('bodies written with any earlier codec still read back', async () => {
    const body = 'Older rows were written with gzip before zstd became the default. '.repeat(50)
    for (const codec of ['gzip', 'zstd'] as const) {
      const packed = packBody(body, `<p>${body}</p>`, 1024, codec)
      expect(packed.compression_type).toBe(codec)
      expect(unpackBody({ compression_type: codec, content_text: null, content_html: null, content_text_packed: packed.text_packed, content_html_packed: packed.html_packed })).toEqual({
        content_text: body,
        content_html: `<p>${body}</p>`,
      })
    }
  })

  test('content has a strong ETag and If-None-Match answers 304', async () => {
    const t = await createTenant(sys, 'etag')
    const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
    const first = await call(sys, 'GET', `/v1/messages/${m.body.id}/content`, { token: t.key })
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    const again = await call(sys, 'GET', `/v1/messages/${m.body.id}/content`, { token: t.key, headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.raw.length).toBe(0)
    const stale = await call(sys, 'GET', `/v1/messages/${m.body.id}/content`, { token: t.key, headers: { 'if-none-match': '"x"' } })
    expect(stale.status).toBe(200)
  })
})

describe('storage keys', () => {
  test('a default key is derived from the ids, not stored; any other key is stored and read back', async () => {
    const t = await createTenant(sys, 'keys')
    const made = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })
    expect(made.body.content_storage_key).toBe(messageKey(t.id, made.body.id))
    const stored = async (id: string) =>
      (await sys.tiers.oltp.query<{ k: string | null }>(`SELECT content_storage_key AS k FROM oltp.inbox_message_refs WHERE id = $1`, [id]))[0]!.k
    expect(await stored(made.body.id)).toBeNull()

    const id = newId()
    const elsewhere = `${t.id}/moved/${id}`
    await insertMessageRef(sys.tiers.oltp, {
      ...(await getMessageRef(sys.tiers.oltp, t.id, made.body.id))!,
      id,
      rfc822_message_id: null,
      content_storage_key: elsewhere,
    })
    expect(await stored(id)).toBe(elsewhere)
    expect((await getMessageRef(sys.tiers.oltp, t.id, id))!.content_storage_key).toBe(elsewhere)
  })
})

describe('listing', () => {
  test('newest first, filtered, with keyset pagination that visits every ref once', async () => {
    const t = await createTenant(sys, 'listing')
    const other = await call(sys, 'POST', '/v1/email-accounts', { token: t.key, body: { email_address: 'other@listing.test' } })
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'Q4' } })
    const ids: string[] = []
    for (let i = 0; i < 7; i++) {
      const r = await call(sys, 'POST', '/v1/messages', {
        token: t.key,
        body: messageBody(t.accountId, { subject: `m${i}`, campaign_id: i % 2 ? campaign.body.id : null }),
      })
      ids.push(r.body.id)
    }
    await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(other.body.id, { direction: 'inbound' }) })

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const q: string = `/v1/messages?email_account_id=${t.accountId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const page = await call(sys, 'GET', q, { token: t.key })
      expect(page.status).toBe(200)
      expect(page.body.data.every((m: any) => m.content === undefined)).toBe(true)
      seen.push(...page.body.data.map((m: any) => m.id))
      cursor = page.body.next_cursor
    } while (cursor)
    expect(seen).toEqual([...ids].reverse())

    const byCampaign = await call(sys, 'GET', `/v1/messages?campaign_id=${campaign.body.id}`, { token: t.key })
    expect(byCampaign.body.data.map((m: any) => m.subject)).toEqual(['m5', 'm3', 'm1'])
    const lead = await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email: 'ada@listing.test' } })
    const toLead = []
    for (const subject of ['first touch', 'follow-up']) {
      const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { subject, lead_id: lead.body.id }) })
      toLead.push(r.body.id)
    }
    const byLead = await call(sys, 'GET', `/v1/messages?lead_id=${lead.body.id}`, { token: t.key })
    expect(byLead.body.data.map((m: any) => m.id)).toEqual([...toLead].reverse())
    const inbound = await call(sys, 'GET', '/v1/messages?direction=inbound', { token: t.key })
    expect(inbound.body.data).toHaveLength(1)
    expect(inbound.body.data[0].email_account_id).toBe(other.body.id)
  })
})

describe('threads and references', () => {
  test('a thread comes back whole and in order from any message in it', async () => {
    const t = await createTenant(sys, 'threads')
    const root = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { subject: 'root' }) })
    const reply = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { subject: 'Re: root', direction: 'inbound', parent_message_id: root.body.id }),
    })
    const followUp = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { subject: 'Re: Re: root', parent_message_id: reply.body.id }),
    })
    await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { subject: 'unrelated' }) })
    for (const from of [root, reply, followUp]) {
      const thread = await call(sys, 'GET', `/v1/messages/${from.body.id}/thread`, { token: t.key })
      expect(thread.body.data.map((m: any) => m.subject)).toEqual(['root', 'Re: root', 'Re: Re: root'])
    }
  })

  test('a sequence step fills in its campaign; a step from another campaign is refused', async () => {
    const t = await createTenant(sys, 'steps')
    const c1 = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'one' } })
    const c2 = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'two' } })
    const step = await call(sys, 'POST', `/v1/campaigns/${c1.body.id}/steps`, { token: t.key, body: { step_number: 1 } })
    const ok = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { sequence_step_id: step.body.id }),
    })
    expect(ok.status).toBe(201)
    expect(ok.body.campaign_id).toBe(c1.body.id)
    const bad = await call(sys, 'POST', '/v1/messages', {
      token: t.key,
      body: messageBody(t.accountId, { sequence_step_id: step.body.id, campaign_id: c2.body.id }),
    })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('sequence_step_id')
  })
})
