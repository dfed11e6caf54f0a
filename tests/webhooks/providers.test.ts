/**
 * What holds for every provider: the same failure reads the same whichever provider reports it,
 * ids stay within 150 characters, rejections never echo a secret, and settings naming no
 * provider verify nothing. Per-provider detail is in ses, sendgrid, postmark and mailgun.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { receiveWebhook, type ProviderEvent, type ProviderSettings, type WebhookOutcome } from '../../src/webhooks/index.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { basic, context, mailgunBody, notification, OUR_ID, rejection, sendgridHeaders, sendgridKeys, sha256Hex, signSns, TOPIC } from './vectors.ts'

useLeakCheck()

const DIAGNOSTIC = '550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in virtual mailbox table'
const sendgrid = sendgridKeys()
const MAILGUN_KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0'

const events = (o: WebhookOutcome): ProviderEvent[] => (o.kind === 'events' ? o.events : [])

/** One hard bounce to ann@example.com, as each provider reports it. */
const deliveries: Record<string, () => Promise<WebhookOutcome>> = {
  ses: () =>
    receiveWebhook(
      { provider: 'ses', topic_arns: [TOPIC] },
      signSns(
        notification({
          notificationType: 'Bounce',
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            timestamp: '2027-03-01T11:51:00Z',
            bouncedRecipients: [{ emailAddress: 'ann@example.com', status: '5.1.1', diagnosticCode: `smtp; ${DIAGNOSTIC}` }],
          },
          mail: { timestamp: '2027-03-01T11:50:00Z', destination: ['ann@example.com'], tags: { edp_message_id: [OUR_ID] } },
        }),
      ),
      new Headers(),
      context(),
    ),
  sendgrid: () => {
    const event = { email: 'ann@example.com', timestamp: 1803901860, event: 'bounce', type: 'bounce', sg_event_id: 'sg-1', status: '5.1.1', reason: DIAGNOSTIC }
    const body = JSON.stringify([{ ...event, edp_message_id: OUR_ID }])
    return receiveWebhook({ provider: 'sendgrid', public_key: sendgrid.publicKey }, body, sendgridHeaders(sendgrid.privateKey, body), context())
  },
  postmark: () =>
    receiveWebhook(
      { provider: 'postmark', username: 'u', password_sha256: sha256Hex('a long enough password') },
      JSON.stringify({
        RecordType: 'Bounce',
        ID: 42,
        Type: 'HardBounce',
        Email: 'ann@example.com',
        BouncedAt: '2027-03-01T11:51:00Z',
        Details: `smtp;${DIAGNOSTIC}`,
        Metadata: { edp_message_id: OUR_ID },
      }),
      basic('u', 'a long enough password'),
      context(),
    ),
  mailgun: () =>
    receiveWebhook(
      { provider: 'mailgun', signing_key: MAILGUN_KEY },
      mailgunBody(MAILGUN_KEY, {
        id: 'mg-1',
        event: 'failed',
        severity: 'permanent',
        reason: 'bounce',
        recipient: 'ann@example.com',
        timestamp: 1803901860,
        'delivery-status': { code: 550, message: DIAGNOSTIC.slice(4) },
        'user-variables': { edp_message_id: OUR_ID },
      }),
      new Headers(),
      context(),
    ),
}

describe('every provider', () => {
  test('the same hard bounce reads the same whichever provider reports it', async () => {
    const seen: Record<string, unknown> = {}
    for (const [provider, deliver] of Object.entries(deliveries)) {
      const [e] = events(await deliver())
      seen[provider] = { type: e?.type, recipient: e?.recipient, messageId: e?.messageId, occurredAt: e?.occurredAt, reason: e?.bounce?.reason, kind: e?.bounce?.kind, status: e?.bounce?.status }
    }
    const expected = { type: 'bounced', recipient: 'ann@example.com', messageId: OUR_ID, occurredAt: '2027-03-01T11:51:00.000Z', reason: 'user_unknown', kind: 'hard', status: '5.1.1' }
    expect(seen).toEqual({ ses: expected, sendgrid: expected, postmark: expected, mailgun: expected })
  })

  test('settings for a provider there is no verifier for verify nothing', async () => {
    const bogus = { provider: 'sparkpost', api_key: 'x' } as unknown as ProviderSettings
    const err = await rejection(() => receiveWebhook(bogus, '{}', new Headers(), context()))
    expect(err.reason).toBe('unauthenticated')
  })

  test('a rejection never carries the configured secret', async () => {
    const secrets = ['s3cret-signing-key-0123456789', sha256Hex('s3cret-password-0123')]
    const failures = await Promise.all([
      rejection(() => receiveWebhook({ provider: 'mailgun', signing_key: secrets[0]! }, mailgunBody('another-key', { id: 'x', event: 'delivered' }), new Headers(), context())),
      rejection(() => receiveWebhook({ provider: 'postmark', username: 'u', password_sha256: secrets[1]! }, '{}', basic('u', 'guess'), context())),
    ])
    expect(failures.map((f) => f.reason)).toEqual(['unauthenticated', 'unauthenticated'])
    for (const f of failures) for (const s of secrets) expect(`${f.message} ${f.field ?? ''}`).not.toContain(s)
  })
})
