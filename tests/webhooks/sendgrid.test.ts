/**
 * SendGrid's signed Event Webhook: batches signed here with an ECDSA P-256 key, in the shapes of
 * SendGrid's Event Webhook reference.
 */
import { describe, expect, test } from 'bun:test'
import { receiveWebhook, type ProviderEvent, type ProviderSettings } from '../../src/webhooks/index.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { context, NOW, NOW_S, OUR_ID, rejection, sendgridHeaders, sendgridKeys } from './vectors.ts'

useLeakCheck()

const keys = sendgridKeys()
const settings: ProviderSettings = { provider: 'sendgrid', public_key: keys.publicKey }
const T = 1803902400 // 2027-03-01T12:00:00Z

const base = (event: string, id: string, extra: object = {}) => ({
  email: 'Ann@Example.com',
  timestamp: T,
  'smtp-id': '<out-42@acme.test>',
  event,
  sg_event_id: id,
  sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
  edp_message_id: OUR_ID,
  ...extra,
})

async function receive(batch: object[], cfg: ProviderSettings = settings): Promise<ProviderEvent[]> {
  const body = JSON.stringify(batch)
  const outcome = await receiveWebhook(cfg, body, sendgridHeaders(keys.privateKey, body), context())
  if (outcome.kind !== 'events') throw new Error('expected events')
  return outcome.events
}

describe('SendGrid events', () => {
  test('a batch becomes one event per counted SendGrid event, in order', async () => {
    const got = await receive([
      base('processed', 'ev-processed'),
      base('delivered', 'ev-delivered', { response: '250 OK' }),
      base('open', 'ev-open'),
      base('click', 'ev-click', { url: 'https://acme.test/x' }),
      base('spamreport', 'ev-spam'),
      base('group_unsubscribe', 'ev-unsub', { asm_group_id: 10 }),
      base('group_resubscribe', 'ev-resub', { asm_group_id: 10 }),
    ])
    expect(got.map((e) => [e.eventId, e.type])).toEqual([
      ['ev-delivered', 'delivered'],
      ['ev-open', 'opened'],
      ['ev-click', 'clicked'],
      ['ev-spam', 'complained'],
      ['ev-unsub', 'unsubscribed'],
    ])
    expect(got[0]).toEqual({
      provider: 'sendgrid',
      eventId: 'ev-delivered',
      type: 'delivered',
      occurredAt: '2027-03-01T12:00:00.000Z',
      recipient: 'ann@example.com',
      messageId: OUR_ID,
      rfc822MessageIds: ['<out-42@acme.test>'],
    })
    expect(got[3]!.complaint).toEqual({ feedbackType: null })
  })

  test('a bounce takes the specific status from the reason, and bounce_classification names the family', async () => {
    const [unknown, full, disabled, reputation, plain] = await receive([
      base('bounce', 'b1', { type: 'bounce', status: '5.0.0', reason: '550 5.1.1 The email account that you tried to reach does not exist.', bounce_classification: 'Invalid Address' }),
      base('bounce', 'b2', { type: 'bounce', status: '5.2.2', reason: '552 5.2.2 The email account that you tried to reach is over quota.', bounce_classification: 'Mailbox Unavailable' }),
      base('bounce', 'b3', { type: 'bounce', status: '5.0.0', reason: '550 Requested action not taken', bounce_classification: 'Mailbox Unavailable' }),
      base('bounce', 'b4', { type: 'bounce', status: '5.0.0', reason: '550 Message rejected', bounce_classification: 'Reputation' }),
      base('bounce', 'b5', { type: 'bounce', status: '5.0.0', reason: '550 no such user here', bounce_classification: 'Unclassified' }),
    ])
    expect(unknown!.bounce).toEqual({ reason: 'user_unknown', kind: 'hard', status: '5.1.1', diagnostic: '550 5.1.1 The email account that you tried to reach does not exist.' })
    expect(full!.bounce).toMatchObject({ reason: 'mailbox_full', kind: 'soft', status: '5.2.2' })
    expect(disabled!.bounce).toMatchObject({ reason: 'mailbox_disabled', kind: 'hard', status: '5.0.0' })
    expect(reputation!.bounce).toMatchObject({ reason: 'blocked', kind: 'soft' })
    expect(plain!.bounce).toMatchObject({ reason: 'user_unknown', kind: 'hard' })
    expect([unknown, full, disabled, reputation, plain].map((e) => e!.type)).toEqual(['bounced', 'bounced', 'bounced', 'bounced', 'bounced'])
  })

  test('a blocked bounce is soft even when its text names a dead address', async () => {
    const [blocked, spam] = await receive([
      base('bounce', 'k1', { type: 'blocked', status: '4.0.0', reason: '421 Temporarily deferred' }),
      base('bounce', 'k2', { type: 'blocked', status: '5.7.1', reason: '554 5.7.1 user unknown, listed at spamhaus' }),
    ])
    expect(blocked!.bounce).toMatchObject({ reason: 'blocked', kind: 'soft', status: '4.0.0' })
    expect(spam!.bounce).toMatchObject({ reason: 'user_unknown', kind: 'soft', status: '5.7.1' })
  })

  test('dropped counts only when the address is bad; deferred is a delay', async () => {
    const got = await receive([
      base('dropped', 'd1', { reason: 'Bounced Address', status: '5.0.0' }),
      base('dropped', 'd2', { reason: 'Invalid' }),
      base('dropped', 'd3', { reason: 'Unsubscribed Address' }),
      base('dropped', 'd4', { reason: 'Spam Reporting Address' }),
      base('dropped', 'd5', { reason: 'Invalid SMTPAPI header' }),
      base('deferred', 'f1', { response: '451 4.7.650 The mail server has been temporarily rate limited', attempt: '3' }),
    ])
    expect(got.map((e) => [e.eventId, e.type, e.bounce?.reason, e.bounce?.kind])).toEqual([
      ['d1', 'bounced', 'user_unknown', 'hard'],
      ['d2', 'bounced', 'user_unknown', 'hard'],
      ['f1', 'delayed', 'rate_limited', 'soft'],
    ])
    expect(got[2]!.bounce!.status).toBe('4.7.650')
  })

  test('a custom arg that is not a uuid gives no message id', async () => {
    const [e] = await receive([base('delivered', 'x1', { edp_message_id: 'nope' })])
    expect(e!.messageId).toBeNull()
  })

  test('a PEM public key verifies the same way', async () => {
    const got = await receive([base('delivered', 'p1')], { provider: 'sendgrid', public_key: keys.pem })
    expect(got.map((e) => e.eventId)).toEqual(['p1'])
  })
})

describe('SendGrid authenticity', () => {
  const body = JSON.stringify([base('delivered', 'a1')])

  test('a body changed after signing is refused', async () => {
    const headers = sendgridHeaders(keys.privateKey, body)
    const err = await rejection(() => receiveWebhook(settings, body.replace('ann@', 'eve@').replace('Ann@', 'Eve@'), headers, context()))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'the SendGrid signature does not match'])
  })

  test('a signature from another key is refused', async () => {
    const other = sendgridKeys()
    const err = await rejection(() => receiveWebhook(settings, body, sendgridHeaders(other.privateKey, body), context()))
    expect(err.reason).toBe('unauthenticated')
  })

  test('the timestamp is signed: changing it breaks the signature', async () => {
    const headers = sendgridHeaders(keys.privateKey, body)
    headers.set('X-Twilio-Email-Event-Webhook-Timestamp', String(Number(NOW_S) + 1))
    expect((await rejection(() => receiveWebhook(settings, body, headers, context()))).message).toBe('the SendGrid signature does not match')
  })

  test('a signature more than 5 minutes from now is refused; within, accepted', async () => {
    const stale = String(Math.floor((NOW - 5 * 60 * 1000 - 1000) / 1000))
    const err = await rejection(() => receiveWebhook(settings, body, sendgridHeaders(keys.privateKey, body, stale), context()))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'signature timestamp is outside the replay window'])
    const future = String(Math.floor((NOW + 6 * 60 * 1000) / 1000))
    expect((await rejection(() => receiveWebhook(settings, body, sendgridHeaders(keys.privateKey, body, future), context()))).reason).toBe('unauthenticated')
    const recent = String(Math.floor((NOW - 4 * 60 * 1000) / 1000))
    const outcome = await receiveWebhook(settings, body, sendgridHeaders(keys.privateKey, body, recent), context())
    expect(outcome.kind === 'events' && outcome.events.length).toBe(1)
  })

  test('missing headers or a signature that is not DER are refused', async () => {
    expect((await rejection(() => receiveWebhook(settings, body, new Headers(), context()))).reason).toBe('unauthenticated')
    const garbage = new Headers({ 'X-Twilio-Email-Event-Webhook-Signature': 'bm90IGEgc2lnbmF0dXJl', 'X-Twilio-Email-Event-Webhook-Timestamp': NOW_S })
    expect((await rejection(() => receiveWebhook(settings, body, garbage, context()))).reason).toBe('unauthenticated')
  })

  test('a configured key that is not an EC public key verifies nothing', async () => {
    const err = await rejection(() => receiveWebhook({ provider: 'sendgrid', public_key: 'bm90IGEga2V5' }, body, sendgridHeaders(keys.privateKey, body), context()))
    expect(err.reason).toBe('unauthenticated')
  })
})

describe('SendGrid format', () => {
  const signed = async (text: string) => rejection(() => receiveWebhook(settings, text, sendgridHeaders(keys.privateKey, text), context()))

  test('a signed body that is not JSON, or not an array, is malformed', async () => {
    expect([(await signed('[{"event":')).reason, (await signed('[{"event":')).field]).toEqual(['malformed', 'body'])
    expect((await signed('{"event":"delivered"}')).reason).toBe('malformed')
  })

  test('a counted event without sg_event_id or email is malformed, naming it', async () => {
    const { sg_event_id: _, ...noId } = base('delivered', 'z')
    expect((await signed(JSON.stringify([base('delivered', 'ok'), noId]))).field).toBe('1.sg_event_id')
    expect((await signed(JSON.stringify([{ ...base('open', 'z'), email: '' }]))).field).toBe('0.email')
  })
})
