/**
 * Mailgun webhooks: signature blocks made here with HMAC-SHA256 under a test signing key, event
 * data in the shapes of Mailgun's webhook docs.
 */
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { receiveWebhook, type ProviderEvent, type ProviderSettings } from '../../src/webhooks/index.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { context, mailgunBody, NOW, NOW_S, OUR_ID, rejection } from './vectors.ts'

useLeakCheck()

const KEY = randomBytes(16).toString('hex')
const settings: ProviderSettings = { provider: 'mailgun', signing_key: KEY }

const data = (event: string, extra: object = {}) => ({
  id: 'CPgfbmQMTCKtHW6uIWtuVe',
  event,
  timestamp: 1803901862.908181, // 2027-03-01T11:51:02.908Z
  recipient: 'Ann@Example.com',
  message: { headers: { to: 'Ann <ann@example.com>', 'message-id': 'out-42@acme.test', from: 'sender@acme.test', subject: 'Hi' } },
  'user-variables': { edp_message_id: OUR_ID },
  ...extra,
})

const failed = (severity: string, status: object, reason = 'bounce') => data('failed', { severity, reason, 'delivery-status': { 'attempt-no': 1, 'session-seconds': 0.4, ...status } })

async function receive(eventData: object): Promise<ProviderEvent[]> {
  const outcome = await receiveWebhook(settings, mailgunBody(KEY, eventData), new Headers(), context())
  if (outcome.kind !== 'events') throw new Error('expected events')
  return outcome.events
}

describe('Mailgun events', () => {
  test('a delivery is normalised: id, float time, bracketed Message-ID, user variable', async () => {
    expect(await receive(data('delivered', { 'delivery-status': { code: 250, message: 'OK' } }))).toEqual([
      {
        provider: 'mailgun',
        eventId: 'CPgfbmQMTCKtHW6uIWtuVe',
        type: 'delivered',
        occurredAt: '2027-03-01T11:51:02.908Z',
        recipient: 'ann@example.com',
        messageId: OUR_ID,
        rfc822MessageIds: ['<out-42@acme.test>'],
      },
    ])
  })

  test('a permanent failure is a bounce with the enhanced code, reason and kind', async () => {
    const message = "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address"
    const [e] = await receive(failed('permanent', { code: 550, 'enhanced-code': '5.1.1', message, description: '' }))
    expect(e).toMatchObject({ type: 'bounced', bounce: { reason: 'user_unknown', kind: 'hard', status: '5.1.1' } })
    expect(e!.bounce!.diagnostic.startsWith('550 5.1.1 The email account')).toBe(true)
    const [policy] = await receive(failed('permanent', { code: 554, message: 'Message rejected due to local policy', description: '' }))
    expect(policy!.bounce).toMatchObject({ reason: 'policy', kind: 'soft', status: null })
  })

  test('a temporary failure is a delay; a permanent one Mailgun gave up on is expired', async () => {
    const [delay] = await receive(failed('temporary', { code: 452, 'enhanced-code': '4.2.2', message: '4.2.2 The email account that you tried to reach is over quota.' }, 'generic'))
    expect(delay).toMatchObject({ type: 'delayed', bounce: { reason: 'mailbox_full', kind: 'soft', status: '4.2.2' } })
    const [old] = await receive(failed('permanent', { code: 421, message: '4.4.1 Connection timed out', description: '' }, 'old'))
    expect(old).toMatchObject({ type: 'bounced', bounce: { reason: 'expired', kind: 'soft', status: '4.4.1' } })
  })

  test('a suppressed bounce is an unknown address; unsubscribe and complaint suppressions give nothing', async () => {
    const [e] = await receive(failed('permanent', { code: 605, message: 'Not delivering to previously bounced address', description: '' }, 'suppress-bounce'))
    expect(e!.bounce).toMatchObject({ reason: 'user_unknown', kind: 'hard' })
    expect(await receive(failed('permanent', { code: 607, message: 'Not delivering to a user who marked your messages as spam' }, 'suppress-complaint'))).toEqual([])
    expect(await receive(failed('permanent', { code: 606, message: 'Not delivering to unsubscribed address' }, 'suppress-unsubscribe'))).toEqual([])
  })

  test('complaints, opens, clicks and unsubscribes; accepted gives nothing', async () => {
    const types = async (event: string) => (await receive(data(event))).map((e) => e.type)
    expect([await types('complained'), await types('opened'), await types('clicked'), await types('unsubscribed'), await types('accepted')]).toEqual([
      ['complained'],
      ['opened'],
      ['clicked'],
      ['unsubscribed'],
      [],
    ])
    expect((await receive(data('complained')))[0]!.complaint).toEqual({ feedbackType: null })
  })
})

describe('Mailgun authenticity', () => {
  const refused = async (body: string) => rejection(() => receiveWebhook(settings, body, new Headers(), context()))

  test('a signature under another key is refused', async () => {
    const err = await refused(mailgunBody(randomBytes(16).toString('hex'), data('delivered')))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'the Mailgun signature does not match'])
  })

  test('a changed token or timestamp breaks the signature', async () => {
    const body = JSON.parse(mailgunBody(KEY, data('delivered')))
    expect((await refused(JSON.stringify({ ...body, signature: { ...body.signature, token: 'x'.repeat(50) } }))).reason).toBe('unauthenticated')
    const shifted = String(Number(NOW_S) - 1)
    expect((await refused(JSON.stringify({ ...body, signature: { ...body.signature, timestamp: shifted } }))).message).toBe('the Mailgun signature does not match')
  })

  test('a signature more than 5 minutes old is refused even when it is right', async () => {
    const stale = String(Math.floor((NOW - 6 * 60 * 1000) / 1000))
    const err = await refused(mailgunBody(KEY, data('delivered'), stale))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'signature timestamp is outside the replay window'])
  })

  test('a body without a signature block is refused', async () => {
    expect((await refused(JSON.stringify({ 'event-data': data('delivered') }))).reason).toBe('unauthenticated')
  })

  test('an empty signing key verifies nothing', async () => {
    const err = await rejection(() => receiveWebhook({ provider: 'mailgun', signing_key: '' }, mailgunBody('', data('delivered')), new Headers(), context()))
    expect(err.reason).toBe('unauthenticated')
  })
})

describe('Mailgun format', () => {
  test('a body that is not JSON is malformed', async () => {
    const err = await rejection(() => receiveWebhook(settings, 'signature=abc&token=def', new Headers(), context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'body'])
  })

  test('signed event data without an id, or without event-data, is malformed, naming it', async () => {
    const { id: _, ...noId } = data('delivered')
    expect((await rejection(() => receive(noId))).field).toBe('event-data.id')
    const body = JSON.parse(mailgunBody(KEY, {}))
    delete body['event-data']
    expect((await rejection(() => receiveWebhook(settings, JSON.stringify(body), new Headers(), context()))).field).toBe('event-data')
  })
})
