/**
 * Amazon SES through SNS: envelopes signed with the test certificate's key, notifications in the
 * shapes of SES's notification and event-publishing docs.
 */
import { describe, expect, test } from 'bun:test'
import { receiveWebhook, type ProviderSettings } from '../../src/webhooks/index.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { CERT_URL, context, notification, otherRsaKey, OUR_ID, rejection, signSns, TOPIC } from './vectors.ts'

useLeakCheck()

const settings: ProviderSettings = { provider: 'ses', topic_arns: ['arn:aws:sns:eu-west-1:123456789012:other', TOPIC] }
const none = new Headers()

const mail = {
  timestamp: '2027-03-01T11:50:00.000Z',
  messageId: '0102018e1f2a3b4c-aaaa-bbbb-cccc-000000000000-000000',
  destination: ['Ann@Example.com', 'bob@example.org'],
  headers: [{ name: 'Message-ID', value: '<out-42@acme.test>' }],
  commonHeaders: { messageId: '<out-42@acme.test>', subject: 'Hello' },
  tags: { edp_message_id: [OUR_ID.toUpperCase()], 'ses:configuration-set': ['default'] },
}

const bounce = (bounceType: string, bounceSubType: string, recipients: object[]) => ({
  notificationType: 'Bounce',
  bounce: { bounceType, bounceSubType, bouncedRecipients: recipients, timestamp: '2027-03-01T11:51:00.000Z', feedbackId: 'fb-1' },
  mail,
})

async function events(message: object, extra: Record<string, string> = {}) {
  const outcome = await receiveWebhook(settings, signSns(notification(message, extra)), none, context())
  if (outcome.kind !== 'events') throw new Error(`expected events, got ${outcome.kind}`)
  return outcome.events
}

describe('SES notifications', () => {
  test('a permanent bounce naming two recipients is two hard bounces with their own ids', async () => {
    const got = await events(
      bounce('Permanent', 'General', [
        { emailAddress: ' Ann@Example.com ', status: '5.0.0', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown' },
        { emailAddress: 'bob@example.org', status: '5.7.1', action: 'failed', diagnosticCode: 'smtp; 554 5.7.1 Service unavailable; client host [1.2.3.4] blocked using zen.spamhaus.org' },
      ]),
    )
    expect(got).toEqual([
      {
        provider: 'ses',
        eventId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324:0',
        type: 'bounced',
        occurredAt: '2027-03-01T11:51:00.000Z',
        recipient: 'ann@example.com',
        messageId: OUR_ID,
        rfc822MessageIds: ['<out-42@acme.test>'],
        bounce: { reason: 'user_unknown', kind: 'hard', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown' },
      },
      {
        provider: 'ses',
        eventId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324:1',
        type: 'bounced',
        occurredAt: '2027-03-01T11:51:00.000Z',
        recipient: 'bob@example.org',
        messageId: OUR_ID,
        rfc822MessageIds: ['<out-42@acme.test>'],
        bounce: {
          reason: 'blocked',
          kind: 'soft',
          status: '5.7.1',
          diagnostic: 'smtp; 554 5.7.1 Service unavailable; client host [1.2.3.4] blocked using zen.spamhaus.org',
        },
      },
    ])
  })

  test('a named subtype decides the reason; a Transient bounce is soft whatever it says', async () => {
    const [full] = await events(bounce('Transient', 'MailboxFull', [{ emailAddress: 'ann@example.com', status: '5.0.0', diagnosticCode: '' }]))
    expect(full!.bounce).toEqual({ reason: 'mailbox_full', kind: 'soft', status: '5.0.0', diagnostic: '' })
    expect(full!.eventId).toBe('22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324')
    const [general] = await events(bounce('Transient', 'General', [{ emailAddress: 'ann@example.com', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }]))
    expect(general!.bounce).toMatchObject({ reason: 'user_unknown', kind: 'soft', status: '5.1.1' })
    const [noEmail] = await events(bounce('Permanent', 'NoEmail', [{ emailAddress: 'ann@example.com', status: '5.0.0' }]))
    expect(noEmail!.bounce).toEqual({ reason: 'user_unknown', kind: 'hard', status: '5.0.0', diagnostic: '' })
    const [content] = await events(bounce('Permanent', 'ContentRejected', [{ emailAddress: 'ann@example.com', status: '5.3.0' }]))
    expect(content!.bounce).toMatchObject({ reason: 'spam_detected', kind: 'soft' })
  })

  test('SES’s global list says the address hard-bounced (hard); the account’s own list says nothing about it (policy, soft), as by mail', async () => {
    const [global] = await events(bounce('Permanent', 'Suppressed', [{ emailAddress: 'ann@example.com', diagnosticCode: 'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.' }]))
    expect(global!.bounce).toMatchObject({ reason: 'user_unknown', kind: 'hard' })
    const [account] = await events(
      bounce('Permanent', 'OnAccountSuppressionList', [
        { emailAddress: 'ann@example.com', diagnosticCode: 'Amazon SES did not send the message to this address because it is on the suppression list for your account.' },
      ]),
    )
    expect(account!.bounce).toMatchObject({ reason: 'policy', kind: 'soft', status: null })
  })

  test('a complaint keeps the feedback type SES sent, or null', async () => {
    const complaint = (type?: string) => ({
      notificationType: 'Complaint',
      complaint: { complainedRecipients: [{ emailAddress: 'ann@example.com' }], timestamp: '2027-03-01T11:55:00.000Z', feedbackId: 'fb-2', ...(type ? { complaintFeedbackType: type } : {}) },
      mail,
    })
    const [abuse] = await events(complaint('abuse'))
    expect(abuse).toMatchObject({ type: 'complained', recipient: 'ann@example.com', occurredAt: '2027-03-01T11:55:00.000Z', complaint: { feedbackType: 'abuse' } })
    expect(abuse!.bounce).toBeUndefined()
    const [bare] = await events(complaint())
    expect(bare!.complaint).toEqual({ feedbackType: null })
  })

  test('deliveries, delays (with the recipient’s status) and opens', async () => {
    const delivered = await events({ eventType: 'Delivery', delivery: { timestamp: '2027-03-01T11:50:03.000Z', recipients: ['ann@example.com'], smtpResponse: '250 ok' }, mail })
    expect(delivered.map((e) => [e.type, e.recipient, e.occurredAt, e.bounce])).toEqual([['delivered', 'ann@example.com', '2027-03-01T11:50:03.000Z', undefined]])

    const delayed = await events({
      eventType: 'DeliveryDelay',
      deliveryDelay: {
        delayType: 'MailboxFull',
        timestamp: '2027-03-01T11:52:00.000Z',
        delayedRecipients: [{ emailAddress: 'bob@example.org', status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 over quota' }],
      },
      mail,
    })
    expect(delayed).toMatchObject([{ type: 'delayed', recipient: 'bob@example.org', bounce: { reason: 'mailbox_full', kind: 'soft', status: '4.2.2', diagnostic: 'smtp; 452 4.2.2 over quota' } }])

    const opened = await events({ eventType: 'Open', open: { timestamp: '2027-03-01T11:58:00.000Z', userAgent: 'x', ipAddress: '1.2.3.4' }, mail })
    expect(opened.map((e) => [e.eventId, e.type, e.recipient, e.occurredAt])).toEqual([
      ['22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324:0', 'opened', 'ann@example.com', '2027-03-01T11:58:00.000Z'],
      ['22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324:1', 'opened', 'bob@example.org', '2027-03-01T11:58:00.000Z'],
    ])
  })

  test('events the platform does not count give no events; a tag that is not a uuid gives no message id', async () => {
    expect(await events({ eventType: 'Send', send: {}, mail })).toEqual([])
    const [e] = await events({ eventType: 'Delivery', delivery: { recipients: ['ann@example.com'] }, mail: { ...mail, tags: { edp_message_id: ['not-a-uuid'] } } })
    expect(e).toMatchObject({ messageId: null, occurredAt: '2027-03-01T11:50:00.000Z' })
  })

  test('SignatureVersion 2 (SHA256withRSA) and a signed Subject verify', async () => {
    const got = await events({ eventType: 'Delivery', delivery: { recipients: ['ann@example.com'] }, mail }, { SignatureVersion: '2', Subject: 'Amazon SES Email Event Notification' })
    expect(got.map((e) => e.type)).toEqual(['delivered'])
  })
})

describe('SNS subscription messages', () => {
  const confirmation = (type: string, subscribeUrl: string) => ({
    Type: type,
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token: '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece2',
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
    SubscribeURL: subscribeUrl,
    Timestamp: '2027-03-01T11:59:00.000Z',
  })
  const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37`

  test('a SubscriptionConfirmation for an accepted topic gives the URL to confirm it', async () => {
    const outcome = await receiveWebhook(settings, signSns(confirmation('SubscriptionConfirmation', subscribeUrl)), none, context())
    expect(outcome).toEqual({ kind: 'subscription', topicArn: TOPIC, subscribeUrl })
  })

  test('an UnsubscribeConfirmation gives no events', async () => {
    expect(await receiveWebhook(settings, signSns(confirmation('UnsubscribeConfirmation', subscribeUrl)), none, context())).toEqual({ kind: 'events', events: [] })
  })

  test('a signed SubscribeURL on another host is refused', async () => {
    const body = signSns(confirmation('SubscriptionConfirmation', 'https://attacker.example/?Action=ConfirmSubscription'))
    const err = await rejection(() => receiveWebhook(settings, body, none, context()))
    expect(err.reason).toBe('unauthenticated')
    expect(err.message).toContain('SubscribeURL')
  })
})

describe('SNS authenticity', () => {
  const delivery = { eventType: 'Delivery', delivery: { recipients: ['ann@example.com'] }, mail }

  test('a Message changed after signing is refused', async () => {
    const body = signSns(notification(delivery)).replace('ann@example.com', 'eve@example.com')
    const ctx = context()
    const err = await rejection(() => receiveWebhook(settings, body, none, ctx))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'the SNS signature does not match'])
    expect(ctx.fetched).toEqual([CERT_URL])
  })

  test('a signature made with another key is refused', async () => {
    const body = signSns(notification(delivery), otherRsaKey())
    expect((await rejection(() => receiveWebhook(settings, body, none, context()))).reason).toBe('unauthenticated')
  })

  test('a certificate URL off an SNS host is refused before anything is fetched', async () => {
    for (const url of [
      'https://attacker.example/cert.pem',
      'http://sns.eu-west-1.amazonaws.com/cert.pem',
      'https://sns.eu-west-1.amazonaws.com.attacker.example/cert.pem',
      'https://sns.eu-west-1.amazonaws.com/cert.txt',
      'https://sns.eu-west-1.amazonaws.com:8443/cert.pem',
      'https://user@sns.eu-west-1.amazonaws.com/cert.pem',
      'not a url',
    ]) {
      const body = signSns(notification(delivery, { SigningCertURL: url }))
      const ctx = context()
      const err = await rejection(() => receiveWebhook(settings, body, none, ctx))
      expect({ url, reason: err.reason, fetched: ctx.fetched }).toEqual({ url, reason: 'unauthenticated', fetched: [] })
    }
  })

  test('a China-region SNS host is accepted', async () => {
    const url = 'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem'
    const ctx = context()
    await receiveWebhook(settings, signSns(notification(delivery, { SigningCertURL: url })), none, ctx)
    expect(ctx.fetched).toEqual([url])
  })

  test('a topic the tenant did not accept is refused before anything is fetched', async () => {
    const body = signSns(notification(delivery, { TopicArn: 'arn:aws:sns:eu-west-1:999999999999:ses-events' }))
    const ctx = context()
    const err = await rejection(() => receiveWebhook(settings, body, none, ctx))
    expect([err.reason, ctx.fetched]).toEqual(['unauthenticated', []])
  })

  test('an unknown SignatureVersion, or no signature, is refused', async () => {
    const v3 = signSns(notification(delivery, { SignatureVersion: '3' }))
    expect((await rejection(() => receiveWebhook(settings, v3, none, context()))).reason).toBe('unauthenticated')
    const unsigned = JSON.stringify({ ...JSON.parse(signSns(notification(delivery))), Signature: undefined })
    expect((await rejection(() => receiveWebhook(settings, unsigned, none, context()))).reason).toBe('unauthenticated')
  })

  test('a certificate that is not valid at ctx.now is refused', async () => {
    const ctx = { ...context(), now: Date.parse('2020-01-01T00:00:00Z') }
    const err = await rejection(() => receiveWebhook(settings, signSns(notification(delivery)), none, ctx))
    expect([err.reason, err.message]).toEqual(['unauthenticated', 'the signing certificate is not valid now'])
  })

  test('a failing certificate fetch is passed on as it is (the caller answers 5xx and SNS retries)', async () => {
    const ctx = { now: context().now, fetchCertificate: async () => Promise.reject(new Error('connect ETIMEDOUT')) }
    await expect(receiveWebhook(settings, signSns(notification(delivery)), none, ctx)).rejects.toThrow('connect ETIMEDOUT')
  })
})

describe('SNS format', () => {
  test('a body that is not JSON is malformed', async () => {
    const err = await rejection(() => receiveWebhook(settings, '{"Type": "Notification",', none, context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'body'])
  })

  test('a signed Message that is not JSON is malformed, naming Message', async () => {
    const err = await rejection(() => receiveWebhook(settings, signSns(notification('not json')), none, context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'Message'])
  })

  test('an envelope without a TopicArn is malformed, naming it', async () => {
    const { TopicArn: _, ...rest } = notification({})
    const err = await rejection(() => receiveWebhook(settings, JSON.stringify({ ...rest, Signature: 'x' }), none, context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'TopicArn'])
  })

  test('a signed bounce naming no recipient is malformed', async () => {
    const err = await rejection(() => receiveWebhook(settings, signSns(notification(bounce('Permanent', 'General', []))), none, context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'bounce.recipients'])
  })
})
