/**
 * Postmark webhooks: HTTP Basic credentials from the webhook URL, records in the shapes of
 * Postmark's webhook docs.
 */
import { describe, expect, test } from 'bun:test'
import { receiveWebhook, type ProviderEvent, type ProviderSettings } from '../../src/webhooks/index.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { basic, context, OUR_ID, rejection, sha256Hex } from './vectors.ts'

useLeakCheck()

const PASSWORD = 'correct horse battery staple'
const settings: ProviderSettings = { provider: 'postmark', username: 'edp-hooks', password_sha256: sha256Hex(PASSWORD) }
const auth = basic('edp-hooks', PASSWORD)
const MESSAGE = '883953f4-6105-42a2-a16a-77a8eac79483'

// The ID is past 2^53 on purpose: Postmark's own example is, and JSON numbers lose such digits.
const bounceRecord = (type: string, details: string, extra: object = {}) =>
  `{"RecordType":"Bounce","ID":4323372036854775807,"Type":"${type}","TypeCode":1,"Name":"x","Tag":"t","MessageID":"${MESSAGE}",` +
  `"ServerID":23,"MessageStream":"outbound","Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).",` +
  `"Details":${JSON.stringify(details)},"Email":"Ann@Example.com","From":"sender@acme.test","BouncedAt":"2027-03-01T11:58:54.9070259Z",` +
  `"Metadata":{"edp_message_id":"${OUR_ID}"}${Object.entries(extra).map(([k, v]) => `,"${k}":${JSON.stringify(v)}`).join('')}}`

async function receive(body: string | object): Promise<ProviderEvent[]> {
  const outcome = await receiveWebhook(settings, typeof body === 'string' ? body : JSON.stringify(body), auth, context())
  if (outcome.kind !== 'events') throw new Error('expected events')
  return outcome.events
}

describe('Postmark records', () => {
  test('a HardBounce keeps its exact ID, the status and reason from Details, and is hard', async () => {
    expect(await receive(bounceRecord('HardBounce', 'smtp;550 5.1.1 The email account that you tried to reach does not exist.'))).toEqual([
      {
        provider: 'postmark',
        eventId: 'Bounce:4323372036854775807',
        type: 'bounced',
        occurredAt: '2027-03-01T11:58:54.907Z',
        recipient: 'ann@example.com',
        messageId: OUR_ID,
        rfc822MessageIds: [],
        bounce: { reason: 'user_unknown', kind: 'hard', status: '5.1.1', diagnostic: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.' },
      },
    ])
  })

  test('a HardBounce whose Details say nothing is an unknown user; Description (Postmark’s fixed text) is not read for the reason', async () => {
    const [e] = await receive(bounceRecord('HardBounce', ''))
    expect(e!.bounce).toEqual({ reason: 'user_unknown', kind: 'hard', status: null, diagnostic: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).' })
    const [soft] = await receive(bounceRecord('SoftBounce', ''))
    expect(soft!.bounce).toMatchObject({ reason: 'undetermined', kind: 'soft' })
  })

  test('soft types are soft whatever their text, and keep the reason it names', async () => {
    const [full] = await receive(bounceRecord('SoftBounce', 'smtp;552 5.2.2 mailbox full'))
    expect(full!.bounce).toMatchObject({ reason: 'mailbox_full', kind: 'soft', status: '5.2.2' })
    const [dns] = await receive(bounceRecord('DnsError', 'DNS lookup timed out'))
    expect(dns).toMatchObject({ type: 'bounced', bounce: { reason: 'network', kind: 'soft' } })
    const [dmarc] = await receive(bounceRecord('DMARCPolicy', ''))
    expect(dmarc!.bounce).toMatchObject({ reason: 'auth_failure', kind: 'soft' })
    const [transient] = await receive(bounceRecord('Transient', 'smtp;421 4.4.2 connection timed out'))
    expect(transient).toMatchObject({ type: 'delayed', bounce: { reason: 'network', kind: 'soft', status: '4.4.2' } })
  })

  test('spam complaints and spam notifications are complaints', async () => {
    const [complaint] = await receive(bounceRecord('SpamComplaint', '').replace('"RecordType":"Bounce"', '"RecordType":"SpamComplaint"'))
    expect(complaint).toMatchObject({ eventId: 'SpamComplaint:4323372036854775807', type: 'complained', complaint: { feedbackType: null } })
    expect(complaint!.bounce).toBeUndefined()
    const [notice] = await receive(bounceRecord('SpamNotification', ''))
    expect(notice).toMatchObject({ eventId: 'Bounce:4323372036854775807', type: 'complained' })
  })

  test('types that say nothing about delivery give no events', async () => {
    expect(await receive(bounceRecord('AutoResponder', 'I am away'))).toEqual([])
    expect(await receive(bounceRecord('ManuallyDeactivated', ''))).toEqual([])
  })

  test('deliveries, opens and clicks get ids from the message, recipient and time', async () => {
    const [delivered] = await receive({
      RecordType: 'Delivery',
      ServerID: 23,
      MessageID: MESSAGE,
      Recipient: 'Ann@Example.com',
      DeliveredAt: '2027-03-01T11:50:10Z',
      Details: 'Test delivery webhook details',
      Metadata: {},
    })
    expect(delivered).toEqual({
      provider: 'postmark',
      eventId: `Delivery:${MESSAGE}:ann@example.com`,
      type: 'delivered',
      occurredAt: '2027-03-01T11:50:10.000Z',
      recipient: 'ann@example.com',
      messageId: null,
      rfc822MessageIds: [],
    })
    const open = { RecordType: 'Open', FirstOpen: true, MessageID: MESSAGE, Recipient: 'ann@example.com', ReceivedAt: '2027-03-01T11:55:00Z', Metadata: { edp_message_id: OUR_ID } }
    const [opened] = await receive(open)
    const [again] = await receive({ ...open, FirstOpen: false, ReceivedAt: '2027-03-01T11:56:00Z' })
    expect([opened!.type, opened!.messageId, opened!.eventId === again!.eventId]).toEqual(['opened', OUR_ID, false])
    const click = { RecordType: 'Click', MessageID: MESSAGE, Recipient: 'ann@example.com', ReceivedAt: '2027-03-01T11:57:00Z', OriginalLink: 'https://acme.test/a' }
    const [a] = await receive(click)
    const [b] = await receive({ ...click, OriginalLink: 'https://acme.test/b' })
    expect([a!.type, a!.eventId === b!.eventId, (await receive(click))[0]!.eventId]).toEqual(['clicked', false, a!.eventId])
  })

  test('a manual suppression is an unsubscribe; bounce suppressions and reactivations give nothing', async () => {
    const change = {
      RecordType: 'SubscriptionChange',
      MessageID: MESSAGE,
      ChangedAt: '2027-03-01T11:57:00Z',
      Recipient: 'ann@example.com',
      Origin: 'Recipient',
      SuppressSending: true,
      SuppressionReason: 'ManualSuppression',
    }
    expect((await receive(change)).map((e) => [e.type, e.occurredAt])).toEqual([['unsubscribed', '2027-03-01T11:57:00.000Z']])
    expect(await receive({ ...change, SuppressionReason: 'HardBounce' })).toEqual([])
    expect(await receive({ ...change, SuppressSending: false, SuppressionReason: null })).toEqual([])
  })

  test('a very long address still gives an id of at most 150 characters, the same each time', async () => {
    const long = { RecordType: 'Delivery', MessageID: MESSAGE, Recipient: `${'a'.repeat(200)}@example.com`, DeliveredAt: '2027-03-01T11:50:10Z' }
    const [first] = await receive(long)
    const [second] = await receive(long)
    expect(first!.eventId.length).toBeLessThanOrEqual(150)
    expect(first!.eventId).toBe(second!.eventId)
    expect(first!.eventId.startsWith('Delivery:sha256:')).toBe(true)
  })
})

describe('Postmark credentials', () => {
  const body = bounceRecord('HardBounce', 'smtp;550 5.1.1 user unknown')
  const refused = async (headers: Headers) => (await rejection(() => receiveWebhook(settings, body, headers, context()))).reason

  test('a wrong password, a wrong username or no credentials are refused', async () => {
    expect(await refused(basic('edp-hooks', 'correct horse battery stapler'))).toBe('unauthenticated')
    expect(await refused(basic('edp-hook', PASSWORD))).toBe('unauthenticated')
    expect(await refused(new Headers())).toBe('unauthenticated')
  })

  test('another scheme, or Basic without a colon, is refused', async () => {
    expect(await refused(new Headers({ Authorization: `Bearer ${PASSWORD}` }))).toBe('unauthenticated')
    expect(await refused(new Headers({ Authorization: `Basic ${Buffer.from(`edp-hooks${PASSWORD}`).toString('base64')}` }))).toBe('unauthenticated')
  })

  test('a password containing a colon is split at the first colon only', async () => {
    const withColon: ProviderSettings = { provider: 'postmark', username: 'u', password_sha256: sha256Hex('p:a:ss') }
    const outcome = await receiveWebhook(withColon, body, basic('u', 'p:a:ss'), context())
    expect(outcome.kind === 'events' && outcome.events.map((e) => e.type)).toEqual(['bounced'])
  })

  test('credentials are checked before the body is read, and the message never carries the secret', async () => {
    const err = await rejection(() => receiveWebhook(settings, 'not json', basic('edp-hooks', 'wrong'), context()))
    expect(err.reason).toBe('unauthenticated')
    expect(err.message).not.toContain('wrong')
    expect(err.message).not.toContain(settings.password_sha256)
  })
})

describe('Postmark format', () => {
  test('a body that is not JSON is malformed', async () => {
    const err = await rejection(() => receiveWebhook(settings, '{"RecordType":', auth, context()))
    expect([err.reason, err.field]).toEqual(['malformed', 'body'])
  })

  test('a record without RecordType, or a bounce without its time, is malformed, naming the field', async () => {
    expect((await rejection(() => receive({ ID: 1, Email: 'a@b.c' }))).field).toBe('RecordType')
    expect((await rejection(() => receive(bounceRecord('HardBounce', '').replace('"BouncedAt":"2027-03-01T11:58:54.9070259Z"', '"BouncedAt":"soon"')))).field).toBe('BouncedAt')
  })
})
