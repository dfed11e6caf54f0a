/**
 * Signed deliveries for the webhook tests, built the way each provider builds them: SNS envelopes
 * signed with the test certificate's key (tests/fixtures/webhooks), SendGrid batches signed with
 * an ECDSA P-256 key made here, Mailgun signatures as HMAC-SHA256 hex, Postmark Basic credentials.
 */
import { createHash, createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { WebhookRejected, type VerifyContext } from '../../src/webhooks/index.ts'

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'webhooks')
export const SNS_CERT = readFileSync(join(FIXTURES, 'sns-test.pem'), 'utf8')
const SNS_KEY = readFileSync(join(FIXTURES, 'sns-test.key'), 'utf8')

/** Inside the test certificate's validity (from when it was made, for a century). */
export const NOW = Date.parse('2027-03-01T12:00:00Z')
export const NOW_S = String(Math.floor(NOW / 1000))
export const OUR_ID = '0193f5a2-7c4e-7d1a-9b3e-5f6a7b8c9d0e'

/** A context whose certificate fetches are recorded; `cert` is what every fetch answers. */
export function context(cert: string = SNS_CERT): VerifyContext & { fetched: string[] } {
  const fetched: string[] = []
  return {
    now: NOW,
    fetched,
    fetchCertificate: async (url) => {
      fetched.push(url)
      return cert
    },
  }
}

/** The WebhookRejected a delivery fails with; any other outcome fails the test. */
export async function rejection(run: () => Promise<unknown>): Promise<WebhookRejected> {
  try {
    await run()
  } catch (err) {
    if (err instanceof WebhookRejected) return err
    throw err
  }
  throw new Error('the delivery was accepted')
}

// --- SNS ---

export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events'
export const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem'

const SIGNED: Record<string, string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
}

/** Signs an envelope as SNS does; `key` lets a test sign with a key that is not the certificate's. */
export function signSns(envelope: Record<string, string>, key: string | KeyObject = SNS_KEY): string {
  const version = envelope.SignatureVersion ?? '1'
  const text = SIGNED[envelope.Type!]!.filter((k) => k in envelope).map((k) => `${k}\n${envelope[k]}\n`).join('')
  const signature = createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1').update(text, 'utf8').sign(key, 'base64')
  return JSON.stringify({ SignatureVersion: version, SigningCertURL: CERT_URL, ...envelope, Signature: signature })
}

export function notification(message: object | string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: TOPIC,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: '2027-03-01T11:59:58.000Z',
    ...extra,
  }
}

export const otherRsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

// --- SendGrid ---

export function sendgridKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), pem: publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

export function sendgridHeaders(privateKey: KeyObject, body: string, timestamp = NOW_S): Headers {
  const signature = createSign('sha256').update(timestamp + body, 'utf8').sign(privateKey, 'base64')
  return new Headers({ 'X-Twilio-Email-Event-Webhook-Signature': signature, 'X-Twilio-Email-Event-Webhook-Timestamp': timestamp })
}

// --- Mailgun ---

export function mailgunBody(signingKey: string, eventData: object, timestamp = NOW_S, token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0'): string {
  const signature = createHmac('sha256', signingKey).update(timestamp + token).digest('hex')
  return JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData })
}

// --- Postmark ---

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex')
export const basic = (user: string, password: string) => new Headers({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
