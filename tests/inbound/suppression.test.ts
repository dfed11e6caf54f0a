/**
 * Suppression from inbound mail: a hard bounce or a complaint threaded to one of the tenant's
 * messages suppresses its recipient at once, recipient-side soft bounces only after
 * SOFT_BOUNCE_SUPPRESS_AFTER in a row, sender-side ones never; and POST /v1/messages refuses a
 * suppressed recipient unless told to override.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { testConfig, useSystem } from '../support/system.ts'

const sys = useSystem(testConfig({ SOFT_BOUNCE_SUPPRESS_AFTER: '3', SOFT_BOUNCE_WINDOW_DAYS: '30' }))

let seq = 0

/** An outbound message to `to`, and its Message-ID. */
async function send(t: TenantFixture, to: string, extra: Record<string, unknown> = {}) {
  const rfc = `<out-${++seq}-${Date.now()}@acme.test>`
  const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { to_email: to, rfc822_message_id: rfc, ...extra }) })
  return { ...r, rfc }
}

/** A Postfix-style DSN for one failed recipient of the message `original`. */
function dsn(o: { original: string; recipient: string; status: string; diagnostic: string; action?: string }) {
  const id = `<dsn-${++seq}-${Date.now()}@mx.acme.test>`
  return `Return-Path: <>
From: MAILER-DAEMON@mx.acme.test (Mail Delivery System)
To: sales@acme.test
Subject: Undelivered Mail Returned to Sender
Date: Mon, 30 Nov 2026 09:07:13 +0000
Message-ID: ${id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

<${o.recipient}>: host mx.example.org said: ${o.diagnostic}

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; ${o.recipient}
Action: ${o.action ?? 'failed'}
Status: ${o.status}
Diagnostic-Code: smtp; ${o.diagnostic}

--b1
Content-Type: message/rfc822

From: Acme Sales <sales@acme.test>
To: <${o.recipient}>
Subject: Quick question
Message-ID: ${o.original}

Hi
--b1--
`
}

/** An RFC 5965 abuse report about the message `original`. */
function arf(original: string, recipient: string) {
  return `From: feedback@fbl.example.net
To: sales@acme.test
Subject: FW: Quick question
Message-ID: <fbl-${++seq}-${Date.now()}@fbl.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf"

--arf
Content-Type: text/plain

This is an email abuse report.

--arf
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Rcpt-To: <${recipient}>

--arf
Content-Type: message/rfc822

From: Acme Sales <sales@acme.test>
To: <${recipient}>
Subject: Quick question
Message-ID: ${original}

Hi
--arf--
`
}

const inbound = (t: TenantFixture, raw: string) =>
  call(sys, 'POST', `/v1/inbound?email_account_id=${t.accountId}`, { token: t.key, rawBody: raw, headers: { 'content-type': 'message/rfc822' } })

const check = async (t: TenantFixture, email: string) =>
  (await call(sys, 'GET', `/v1/suppressions/check?email=${encodeURIComponent(email)}`, { token: t.key })).body

const USER_UNKNOWN = { status: '5.1.1', diagnostic: '550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table' }
const MAILBOX_FULL = { status: '4.2.2', diagnostic: '452 4.2.2 The email account that you tried to reach is over quota' }

describe('suppression from inbound mail', () => {
  test('a hard bounce suppresses its recipient; sending to it is refused (any case) unless overridden; removing it allows sending again', async () => {
    const t = await createTenant(sys)
    const out = await send(t, 'Gone.Person@example.org')
    expect(out.status).toBe(201)
    const bounce = await inbound(t, dsn({ original: out.rfc, recipient: 'gone.person@example.org', ...USER_UNKNOWN }))
    expect(bounce.status).toBe(201)

    const c = await check(t, 'GONE.person@example.org')
    expect(c).toMatchObject({
      email: 'gone.person@example.org',
      suppressed: true,
      suppression: { reason: 'hard_bounce', bounce_reason: 'user_unknown', source: 'inbound', source_message_id: bounce.body.id },
    })

    const refused = await send(t, 'gone.PERSON@example.org')
    expect(refused.status).toBe(422)
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'to_email' })])
    expect(refused.body.detail).toContain('hard_bounce')
    const overridden = await send(t, 'gone.person@example.org', { override_suppression: true })
    expect(overridden.status).toBe(201)

    expect((await call(sys, 'DELETE', `/v1/suppressions/${encodeURIComponent('Gone.Person@example.org')}`, { token: t.key })).status).toBe(204)
    expect((await check(t, 'gone.person@example.org')).suppressed).toBe(false)
    expect((await send(t, 'gone.person@example.org')).status).toBe(201)
    expect((await call(sys, 'DELETE', `/v1/suppressions/${encodeURIComponent('gone.person@example.org')}`, { token: t.key })).status).toBe(404)
  })

  test('a policy or reputation rejection is soft and suppresses nothing, however often', async () => {
    const t = await createTenant(sys)
    for (let i = 0; i < 4; i++) {
      const out = await send(t, 'alive@example.org')
      expect(out.status).toBe(201)
      const b = await inbound(t, dsn({ original: out.rfc, recipient: 'alive@example.org', status: '5.7.1', diagnostic: '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org' }))
      expect(b.status).toBe(201)
    }
    expect((await check(t, 'alive@example.org')).suppressed).toBe(false)
  })

  test('recipient-side soft bounces suppress after 3 in a row; a reply in between starts the count over', async () => {
    const t = await createTenant(sys)
    const softBounce = async () => {
      const out = await send(t, 'full@example.org')
      expect(out.status).toBe(201)
      expect((await inbound(t, dsn({ original: out.rfc, recipient: 'full@example.org', ...MAILBOX_FULL }))).status).toBe(201)
      return out
    }
    await softBounce()
    const second = await softBounce()
    // The lead answers the second message: the mailbox is alive.
    const reply = `From: full@example.org\nTo: sales@acme.test\nSubject: Re: Quick question\nMessage-ID: <reply-${Date.now()}@example.org>\nIn-Reply-To: ${second.rfc}\n\nYes, let us talk.\n`
    expect((await inbound(t, reply)).status).toBe(201)
    await softBounce()
    await softBounce()
    expect((await check(t, 'full@example.org')).suppressed).toBe(false)
    await softBounce()
    expect(await check(t, 'full@example.org')).toMatchObject({ suppressed: true, suppression: { reason: 'soft_bounces', bounce_reason: 'mailbox_full' } })
  })

  test('a complaint suppresses its recipient', async () => {
    const t = await createTenant(sys)
    const out = await send(t, 'annoyed@example.com')
    expect((await inbound(t, arf(out.rfc, 'annoyed@example.com'))).status).toBe(201)
    expect(await check(t, 'annoyed@example.com')).toMatchObject({ suppressed: true, suppression: { reason: 'complaint', source: 'inbound' } })
  })

  test('a bounce that answers none of the tenant’s messages (a forged or stray DSN) suppresses nothing', async () => {
    const t = await createTenant(sys)
    const stray = await inbound(t, dsn({ original: '<never-sent@elsewhere.test>', recipient: 'victim@example.org', ...USER_UNKNOWN }))
    expect(stray.status).toBe(201)
    expect(stray.body.message_type).toBe('bounce')
    expect((await check(t, 'victim@example.org')).suppressed).toBe(false)
  })

  test('one tenant’s suppression is not another’s', async () => {
    const a = await createTenant(sys)
    const b = await createTenant(sys)
    const out = await send(a, 'shared@example.org')
    expect((await inbound(a, dsn({ original: out.rfc, recipient: 'shared@example.org', ...USER_UNKNOWN }))).status).toBe(201)
    expect((await check(a, 'shared@example.org')).suppressed).toBe(true)
    expect((await check(b, 'shared@example.org')).suppressed).toBe(false)
    expect((await send(b, 'shared@example.org')).status).toBe(201)
    expect((await call(sys, 'DELETE', '/v1/suppressions/shared@example.org', { token: b.key })).status).toBe(404)
    expect((await check(a, 'shared@example.org')).suppressed).toBe(true)
  })
})

describe('the suppression list by hand', () => {
  test('add, add again, list with a reason filter, and bad input named', async () => {
    const t = await createTenant(sys)
    const added = await call(sys, 'POST', '/v1/suppressions', { token: t.key, body: { email: 'DoNotMail@Example.com', note: 'asked by phone' } })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ email: 'donotmail@example.com', reason: 'manual', source: 'api', note: 'asked by phone' })
    const again = await call(sys, 'POST', '/v1/suppressions', { token: t.key, body: { email: 'donotmail@example.com' } })
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(added.body.id)

    const out = await send(t, 'bounced@example.org')
    await inbound(t, dsn({ original: out.rfc, recipient: 'bounced@example.org', ...USER_UNKNOWN }))
    const all = await call(sys, 'GET', '/v1/suppressions', { token: t.key })
    expect(all.body.data.map((s: { email: string }) => s.email)).toEqual(['bounced@example.org', 'donotmail@example.com'])
    const manual = await call(sys, 'GET', '/v1/suppressions?reason=manual', { token: t.key })
    expect(manual.body.data.map((s: { email: string }) => s.email)).toEqual(['donotmail@example.com'])
    const page = await call(sys, 'GET', '/v1/suppressions?limit=1', { token: t.key })
    expect(page.body.data).toHaveLength(1)
    const next = await call(sys, 'GET', `/v1/suppressions?limit=1&cursor=${page.body.next_cursor}`, { token: t.key })
    expect(next.body.data[0].email).toBe('donotmail@example.com')

    const bad = await call(sys, 'POST', '/v1/suppressions', { token: t.key, body: { email: 'not an address' } })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('email')
    const badCheck = await call(sys, 'GET', '/v1/suppressions/check?email=nope', { token: t.key })
    expect(badCheck.status).toBe(422)
    expect((await call(sys, 'GET', '/v1/suppressions', { token: t.key })).body.data).toHaveLength(2)
  })
})
