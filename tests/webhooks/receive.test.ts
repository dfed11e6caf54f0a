/**
 * Provider webhooks through the API: configured per tenant, verified, matched to the tenant's
 * messages, counted once in analytics however often the provider redelivers, and suppressing
 * like inbound mail. The signatures are real (tests/webhooks/vectors.ts); only the SNS
 * certificate fetch is answered locally.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { testConfig, useSystem } from '../support/system.ts'
import { basic, CERT_URL, mailgunBody, notification, sendgridHeaders, sendgridKeys, signSns, SNS_CERT, TOPIC } from './vectors.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const nowS = () => String(Math.floor(Date.now() / 1000))
let seq = 0

async function outbound(t: TenantFixture, to: string) {
  const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: `webhooks-${++seq}` } })
  const rfc = `<wh-${seq}-${Date.now()}@acme.test>`
  const m = await call(sys, 'POST', '/v1/messages', {
    token: t.key,
    body: messageBody(t.accountId, { to_email: to, campaign_id: campaign.body.id, rfc822_message_id: rfc }),
  })
  expect(m.status).toBe(201)
  return { id: m.body.id as string, campaignId: campaign.body.id as string, rfc }
}

const configure = (t: TenantFixture, body: object) => call(sys, 'PUT', '/v1/webhook-settings', { token: t.key, body })

function deliver(t: TenantFixture | string, provider: string, body: string, headers: Headers = new Headers()) {
  const tenantId = typeof t === 'string' ? t : t.id
  return call(sys, 'POST', `/v1/webhooks/${provider}?tenant_id=${tenantId}`, {
    rawBody: body,
    headers: { 'content-type': 'application/json', ...Object.fromEntries(headers) },
  })
}

const campaignCounts = async (t: TenantFixture, id: string) => {
  await drainQueues(sys)
  return (await call(sys, 'GET', `/v1/analytics/campaigns/${id}`, { token: t.key })).body
}

const suppression = async (t: TenantFixture, email: string) =>
  (await call(sys, 'GET', `/v1/suppressions/check?email=${encodeURIComponent(email)}`, { token: t.key })).body

describe('Mailgun', () => {
  const KEY = 'key-test-signing-0123456789abcdef'

  test('a permanent failure bounces the message, suppresses the address and counts once, however often it is redelivered', async () => {
    const t = await createTenant(sys)
    expect((await configure(t, { provider: 'mailgun', signing_key: KEY })).status).toBe(200)
    const m = await outbound(t, 'gone@example.org')
    const body = mailgunBody(
      KEY,
      {
        id: `mg-${Date.now()}`,
        event: 'failed',
        severity: 'permanent',
        timestamp: Date.now() / 1000,
        recipient: 'Gone@Example.org',
        message: { headers: { 'message-id': m.rfc.slice(1, -1) } },
        'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist', 'enhanced-code': '5.1.1' },
      },
      nowS(),
    )
    const first = await deliver(t, 'mailgun', body)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ received: 1, duplicates: 0, unmatched: 0, suppressed: ['gone@example.org'] })
    const again = await deliver(t, 'mailgun', body)
    expect(again.body).toMatchObject({ received: 1, duplicates: 1, suppressed: [] })

    expect((await call(sys, 'GET', `/v1/messages/${m.id}`, { token: t.key })).body.status).toBe('bounced')
    expect(await suppression(t, 'gone@example.org')).toMatchObject({
      suppressed: true,
      suppression: { reason: 'hard_bounce', bounce_reason: 'user_unknown', source: 'webhook:mailgun', source_message_id: m.id },
    })
    expect(await campaignCounts(t, m.campaignId)).toMatchObject({ sent: 1, bounced: 1, hard_bounced: 1, soft_bounced: 0, bounce_reasons: { user_unknown: 1 } })
  })

  test('a bad signature, another tenant, an unconfigured provider and an unknown tenant all answer the same 401; nothing is applied', async () => {
    const t = await createTenant(sys)
    const other = await createTenant(sys)
    await configure(t, { provider: 'mailgun', signing_key: KEY })
    const m = await outbound(t, 'alive@example.org')
    const event = { id: `mg-bad-${Date.now()}`, event: 'complained', timestamp: Date.now() / 1000, recipient: 'alive@example.org', message: { headers: { 'message-id': m.rfc.slice(1, -1) } } }
    const answers = [
      await deliver(t, 'mailgun', mailgunBody('key-not-the-tenants-0123456789', event, nowS())),
      await deliver(other, 'mailgun', mailgunBody(KEY, event, nowS())),
      await deliver(t, 'sendgrid', mailgunBody(KEY, event, nowS())),
      await deliver('019cadd2-391f-7ce9-aa06-e9ab85a0bcc9', 'mailgun', mailgunBody(KEY, event, nowS())),
      // Signed, but 10 minutes old: a replay.
      await deliver(t, 'mailgun', mailgunBody(KEY, event, String(Math.floor(Date.now() / 1000) - 600))),
    ]
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401])
    expect(new Set(answers.map((a) => a.body.detail)).size).toBe(1)
    expect((await suppression(t, 'alive@example.org')).suppressed).toBe(false)
    expect((await deliver(t, 'mailgun', '{"signature":')).status).toBe(400)
    expect((await deliver(t, 'mailgun', '{"signature": 3}')).status).toBe(401)
    // Signed, but not an event: 422 naming what is wrong.
    const notAnEvent = await deliver(t, 'mailgun', mailgunBody(KEY, { event: 'failed' }, nowS()))
    expect(notAnEvent.status).toBe(422)
    expect(notAnEvent.body.errors[0].field).toMatch(/^event-data/)
    expect((await deliver('not-a-uuid', 'mailgun', '{}')).status).toBe(422)
    expect((await deliver(t, 'nosuchprovider', '{}')).status).toBe(422)
  })
})

describe('SendGrid', () => {
  test('a signed batch: delivered, a soft bounce and a spam report, matched by smtp-id and edp_message_id', async () => {
    const t = await createTenant(sys)
    const keys = sendgridKeys()
    const bad = await configure(t, { provider: 'sendgrid', public_key: 'bm90IGEga2V5IGF0IGFsbCBidXQgbG9uZyBlbm91Z2ggdG8gcGFzcw==' })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('public_key')
    expect((await configure(t, { provider: 'sendgrid', public_key: keys.publicKey })).status).toBe(200)
    const a = await outbound(t, 'ann@example.com')
    const b = await outbound(t, 'bob@example.com')
    const ts = Math.floor(Date.now() / 1000)
    const body = JSON.stringify([
      { email: 'ann@example.com', event: 'delivered', sg_event_id: `sg-1-${ts}`, timestamp: ts, 'smtp-id': a.rfc },
      { email: 'ann@example.com', event: 'bounce', type: 'blocked', sg_event_id: `sg-2-${ts}`, timestamp: ts, 'smtp-id': a.rfc, status: '5.7.1', reason: '550 5.7.1 Message rejected due to local policy', bounce_classification: 'Reputation' },
      { email: 'bob@example.com', event: 'spamreport', sg_event_id: `sg-3-${ts}`, timestamp: ts, edp_message_id: b.id },
    ])
    const r = await deliver(t, 'sendgrid', body, sendgridHeaders(keys.privateKey, body, String(ts)))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ received: 3, duplicates: 0, unmatched: 0, suppressed: ['bob@example.com'] })
    // A reputation block is the sender's problem: soft, and ann stays mailable.
    expect((await suppression(t, 'ann@example.com')).suppressed).toBe(false)
    expect(await campaignCounts(t, a.campaignId)).toMatchObject({ delivered: 1, bounced: 1, soft_bounced: 1, hard_bounced: 0 })
    expect(await campaignCounts(t, b.campaignId)).toMatchObject({ complained: 1 })

    const tampered = body.replace('bob@example.com', 'eve@example.com')
    expect((await deliver(t, 'sendgrid', tampered, sendgridHeaders(keys.privateKey, body, String(ts)))).status).toBe(401)
  })
})

describe('Postmark', () => {
  test('Basic credentials; a hard bounce with our id in Metadata; a soft bounce three times in a row suppresses', async () => {
    const t = await createTenant(sys)
    const password = 'correct-horse-battery-staple'
    expect((await configure(t, { provider: 'postmark', username: 'postmark', password })).status).toBe(200)
    const settings = await call(sys, 'GET', '/v1/webhook-settings/postmark', { token: t.key })
    expect(settings.body).toEqual({ provider: 'postmark', configured: true, url: `/v1/webhooks/postmark?tenant_id=${t.id}`, username: 'postmark' })
    expect(JSON.stringify(settings.body)).not.toContain(password)

    const m = await outbound(t, 'dead@example.net')
    const hard = JSON.stringify({
      RecordType: 'Bounce',
      ID: 4323372036854775807 + seq,
      Type: 'HardBounce',
      TypeCode: 1,
      Email: 'dead@example.net',
      BouncedAt: new Date().toISOString(),
      Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
      Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
      MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
      Metadata: { edp_message_id: m.id },
    })
    expect((await deliver(t, 'postmark', hard, basic('postmark', 'wrong-password-entirely'))).status).toBe(401)
    const ok = await deliver(t, 'postmark', hard, basic('postmark', password))
    expect(ok.status).toBe(200)
    expect(ok.body.suppressed).toEqual(['dead@example.net'])

    for (let i = 0; i < 3; i++) {
      const soft = await outbound(t, 'full@example.net')
      const r = await deliver(
        t,
        'postmark',
        JSON.stringify({
          RecordType: 'Bounce',
          ID: 5000 + i + seq * 10,
          Type: 'SoftBounce',
          TypeCode: 4096,
          Email: 'full@example.net',
          BouncedAt: new Date().toISOString(),
          Details: 'smtp;452 4.2.2 The email account that you tried to reach is over quota.',
          Metadata: { edp_message_id: soft.id },
        }),
        basic('postmark', password),
      )
      expect(r.body.suppressed).toEqual(i < 2 ? [] : ['full@example.net'])
    }
    expect(await suppression(t, 'full@example.net')).toMatchObject({ suppression: { reason: 'soft_bounces', bounce_reason: 'mailbox_full' } })
  })
})

describe('Amazon SES through SNS', () => {
  test('a subscription is confirmed; a signed complaint notification suppresses and counts', async () => {
    const t = await createTenant(sys)
    expect((await configure(t, { provider: 'ses', topic_arns: [TOPIC] })).status).toBe(200)
    const fetched: string[] = []
    const original = sys.deps.fetchText
    sys.deps.fetchText = async (url) => {
      fetched.push(url)
      return url === CERT_URL ? SNS_CERT : '<ConfirmSubscriptionResponse/>'
    }
    try {
      const subscribeUrl = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=x&Token=abc'
      const confirm = await deliver(
        t,
        'ses',
        signSns({ Type: 'SubscriptionConfirmation', MessageId: 'sub-1', Token: 'abc', TopicArn: TOPIC, Message: 'confirm', SubscribeURL: subscribeUrl, Timestamp: new Date().toISOString() }),
      )
      expect(confirm.status).toBe(200)
      expect(confirm.body.subscribed).toBe(TOPIC)
      expect(fetched).toEqual([CERT_URL, subscribeUrl])

      const m = await outbound(t, 'angry@example.com')
      const complaint = notification(
        {
          notificationType: 'Complaint',
          complaint: { complainedRecipients: [{ emailAddress: 'angry@example.com' }], timestamp: new Date().toISOString(), feedbackId: `fb-${Date.now()}`, complaintFeedbackType: 'abuse' },
          mail: { messageId: 'ses-0001', timestamp: new Date().toISOString(), destination: ['angry@example.com'], commonHeaders: { messageId: m.rfc } },
        },
        { MessageId: `sns-${Date.now()}`, Timestamp: new Date().toISOString() },
      )
      const r = await deliver(t, 'ses', signSns(complaint), new Headers({ 'content-type': 'text/plain; charset=UTF-8' }))
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ received: 1, unmatched: 0, suppressed: ['angry@example.com'] })
      expect(await campaignCounts(t, m.campaignId)).toMatchObject({ complained: 1 })

      const forged = signSns({ ...complaint, TopicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else' })
      expect((await deliver(t, 'ses', forged)).status).toBe(401)
    } finally {
      sys.deps.fetchText = original
    }
  })
})
