/**
 * The fixture corpus (tests/fixtures/inbound): every message classified and threaded, bounces
 * marking their original, replies and auto-replies counted against the outbound message.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { testConfig, useSystem } from '../support/system.ts'
import { call, type Reply } from '../support/api.ts'
import { ADMIN_TOKEN } from '../support/system.ts'
import { drainQueues } from '../support/queues.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'inbound')

let key = ''
let campaignId = ''
const outbound = new Map<string, string>() // rfc822 id → message id
const stored = new Map<string, Reply>() // fixture file → the answer to posting it

const ingest = async (file: string, query = ''): Promise<Reply> =>
  call(sys, 'POST', `/v1/inbound${query}`, {
    token: key,
    rawBody: await readFile(join(FIXTURES, file)),
    headers: { 'content-type': 'message/rfc822' },
  })

const expectations: [file: string, type: string, parent: string | null, bounce?: object][] = [
  ['reply-plain.eml', 'email', '<out-1@acme.test>'],
  ['reply-html.eml', 'email', '<out-1@acme.test>'],
  ['dsn-postfix.eml', 'bounce', '<out-2@acme.test>', { recipient: 'nobody@example.com', status: '5.1.1', kind: 'hard' }],
  ['dsn-exim.eml', 'bounce', '<out-3@acme.test>', { recipient: 'ghost@example.net', status: '5.1.1', kind: 'hard' }],
  ['dsn-exchange.eml', 'bounce', '<out-4@acme.test>', { recipient: 'gone@contoso.com', status: '5.1.10', kind: 'hard' }],
  ['dsn-gmail-mailbox-full.eml', 'bounce', '<out-5@acme.test>', { recipient: 'full@gmail.test', status: '5.2.2', kind: 'soft' }],
  ['dsn-qmail-yahoo.eml', 'bounce', '<out-8@acme.test>', { recipient: 'nobody@yahoo.test', status: '554', kind: 'hard' }],
  ['ooo-auto-submitted.eml', 'auto_reply', '<out-1@acme.test>'],
  ['ooo-subject-only.eml', 'auto_reply', '<out-6@acme.test>'],
  ['mailing-list.eml', 'email', null],
  ['multipart-attachments.eml', 'email', '<out-7@acme.test>'],
  ['latin1.eml', 'email', null],
  ['cp1252.eml', 'email', null],
]

beforeAll(async () => {
  const t = await call(sys, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'acme' } })
  key = t.body.api_key
  const account = await call(sys, 'POST', '/v1/email-accounts', { token: key, body: { email_address: 'Sales@Acme.test' } })
  campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: key, body: { name: 'Q4' } })).body.id
  for (let i = 1; i <= 8; i++) {
    const m = await call(sys, 'POST', '/v1/messages', {
      token: key,
      body: {
        email_account_id: account.body.id,
        campaign_id: campaignId,
        from_email: 'sales@acme.test',
        to_email: `lead${i}@example.com`,
        subject: 'Quick question',
        content_text: 'Hi, do you have 10 minutes this week?',
        rfc822_message_id: `<out-${i}@acme.test>`,
      },
    })
    outbound.set(`<out-${i}@acme.test>`, m.body.id)
  }
  // The whole corpus arrives once, in this order; each test below reads what it needs of it.
  for (const [file] of expectations) stored.set(file, await ingest(file))
}, 60_000)

describe('fixture corpus', () => {
  for (const [file, type, parent, bounce] of expectations) {
    test(`${file}: ${type}${parent ? `, threaded to ${parent}` : ''}`, () => {
      const r = stored.get(file)!
      expect(r.status).toBe(201)
      expect(r.body.direction).toBe('inbound')
      expect(r.body.message_type).toBe(type)
      expect(r.body.classification.type).toBe(type)
      expect(r.body.parent_message_id).toBe(parent ? outbound.get(parent)! : null)
      if (parent) expect(r.body.campaign_id).toBe(campaignId)
      if (bounce) expect(r.body.classification.bounce).toMatchObject({ ...bounce, original_message_id: parent })
      expect(r.body.rfc822_message_id).toMatch(/^<.+>$/)
    })
  }

  test('bounced originals are marked; the others keep their status', async () => {
    for (const [id, status] of [
      ['<out-2@acme.test>', 'bounced'],
      ['<out-5@acme.test>', 'bounced'],
      ['<out-1@acme.test>', 'sent'],
    ] as const) {
      const m = await call(sys, 'GET', `/v1/messages/${outbound.get(id)}`, { token: key })
      expect(m.body.status).toBe(status)
    }
  })

  test('replies, auto-replies and bounces are counted against the campaign', async () => {
    await drainQueues(sys)
    const r = await call(sys, 'GET', `/v1/analytics/campaigns/${campaignId}`, { token: key })
    expect(r.body).toMatchObject({
      sent: 8,
      replied: 3, // plain, html and the message with attachments
      unique_replied: 2, // out-1 twice, out-7 once
      auto_replied: 2,
      bounced: 5,
      hard_bounced: 4,
      soft_bounced: 1,
    })
  })

  test('the thread of an outbound message holds its replies; the reply thread leads back to it', async () => {
    const root = outbound.get('<out-1@acme.test>')!
    const thread = await call(sys, 'GET', `/v1/messages/${root}/thread`, { token: key })
    expect(thread.body.data[0].id).toBe(root)
    expect(thread.body.data.map((m: any) => m.message_type).sort()).toEqual(['auto_reply', 'email', 'email', 'email'])
  })

  test('headers keep order and duplicates; attachments and inline images are stored byte for byte', async () => {
    const list = await call(sys, 'GET', '/v1/messages?direction=inbound&limit=200', { token: key })
    const withFiles = list.body.data.find((m: any) => m.rfc822_message_id === '<dana-attach@example.com>')
    const detail = await call(sys, 'GET', `/v1/messages/${withFiles.id}`, { token: key })
    expect(detail.body.attachments.map((a: any) => [a.filename, a.mime_type, a.storage_disposition])).toEqual([
      ['logo.png', 'image/png', 'inline'],
      ['order form.pdf', 'application/pdf', 'attachment'],
    ])
    const pdf = await call(sys, 'GET', `/v1/messages/${withFiles.id}/attachments/${detail.body.attachments[1].id}`, { token: key })
    expect(new TextDecoder().decode(pdf.raw.slice(0, 8))).toBe('%PDF-1.4')
    expect(detail.body.content.headers.map((h: any) => h.name.toLowerCase()).slice(0, 5)).toEqual(['received', 'received', 'from', 'to', 'subject'])
    expect(detail.body.content.headers[0].value).toContain('by mx1.acme.test')
    expect(detail.body.content.headers[1].value).toContain('by mx2.acme.test')
  })

  test('ISO-8859-1 and Windows-1252 bodies are decoded', async () => {
    const list = await call(sys, 'GET', '/v1/messages?direction=inbound&limit=200', { token: key })
    const text = async (rfcId: string) => {
      const m = list.body.data.find((x: any) => x.rfc822_message_id === rfcId)
      return { subject: m.subject, from: m.from_email, body: (await call(sys, 'GET', `/v1/messages/${m.id}/content`, { token: key })).body.content_text }
    }
    const latin = await text('<juergen-latin1@example.de>')
    expect(latin.subject).toBe('Grüße aus München')
    expect(latin.body).toContain('Viele Grüße, Jürgen')
    expect((await text('<zoe-cp1252@example.fr>')).body).toContain('20 € – “merci”')
  })

  test('the same message delivered twice is stored once', async () => {
    const again = await ingest('reply-plain.eml')
    expect(again.status).toBe(200)
    const list = await call(sys, 'GET', '/v1/messages?direction=inbound&limit=200', { token: key })
    expect(list.body.data.filter((m: any) => m.rfc822_message_id === '<CAJane-reply-1@mail.example.com>')).toHaveLength(1)
  })
})
