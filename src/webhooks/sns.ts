/**
 * Amazon SNS deliveries to an HTTP(S) subscription. The body is SNS's JSON envelope (Type,
 * MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertURL,
 * plus SubscribeURL and Token on a subscription or unsubscription confirmation), signed with the
 * key of the certificate at SigningCertURL. The fields signed, their order and the "Key\nValue\n"
 * form follow SNS's "Verifying the signatures of Amazon SNS messages".
 */
import { X509Certificate, createVerify } from 'node:crypto'
import { malformed, obj, parseJson, str, unauthenticated } from './common.ts'
import type { VerifyContext } from './types.ts'

export interface SnsMessage {
  type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'
  messageId: string
  topicArn: string
  message: string
  timestamp: string
  /** Only on a SubscriptionConfirmation; checked to be https on an SNS host. */
  subscribeUrl: string | null
}

/** What SNS signs for each type, in order; Subject only when the notification has one. */
const SIGNED: Record<SnsMessage['type'], string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
}

const ALGORITHM: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' }

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/

/**
 * An https URL on an SNS endpoint (no credentials, no port): the only URLs we fetch or hand to
 * the caller to GET, so a forged envelope cannot point us at another host.
 */
export function isSnsUrl(value: string, pem: boolean): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  const plain = url.protocol === 'https:' && url.port === '' && url.username === '' && url.password === ''
  return plain && SNS_HOST.test(url.hostname) && (!pem || url.pathname.endsWith('.pem'))
}

/**
 * The envelope, once its topic is one the tenant accepts and SNS's signature checks out. The
 * topic and the certificate URL are checked before anything is fetched.
 */
export async function verifySns(rawBody: string, topicArns: readonly string[], ctx: VerifyContext): Promise<SnsMessage> {
  const body = obj(parseJson(rawBody))
  if (!body) throw malformed('body is not an SNS message', 'body')
  const type = str(body.Type)
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') {
    throw malformed('Type is not an SNS message type', 'Type')
  }
  for (const field of SIGNED[type]) if (field !== 'Subject' && !str(body[field])) throw malformed(`${field} is missing`, field)
  const topicArn = str(body.TopicArn)!
  if (!topicArns.includes(topicArn)) throw unauthenticated('the topic is not one this tenant accepts')

  const signature = str(body.Signature)
  const algorithm = ALGORITHM[str(body.SignatureVersion) ?? '']
  const certUrl = str(body.SigningCertURL)
  if (!signature || !algorithm) throw unauthenticated('missing signature or unsupported SignatureVersion')
  if (!certUrl || !isSnsUrl(certUrl, true)) throw unauthenticated('SigningCertURL is not an SNS certificate URL')

  const pem = await ctx.fetchCertificate(certUrl)
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pem)
  } catch {
    throw unauthenticated('the signing certificate cannot be read')
  }
  if (ctx.now < Date.parse(cert.validFrom) || ctx.now > Date.parse(cert.validTo)) throw unauthenticated('the signing certificate is not valid now')

  const signed = SIGNED[type]
    .filter((key) => typeof body[key] === 'string')
    .map((key) => `${key}\n${body[key] as string}\n`)
    .join('')
  let ok = false
  try {
    ok = createVerify(algorithm).update(signed, 'utf8').verify(cert.publicKey, signature, 'base64')
  } catch {
    ok = false
  }
  if (!ok) throw unauthenticated('the SNS signature does not match')

  const subscribeUrl = type === 'SubscriptionConfirmation' ? str(body.SubscribeURL)! : null
  if (subscribeUrl !== null && !isSnsUrl(subscribeUrl, false)) throw unauthenticated('SubscribeURL is not an SNS URL')
  return { type, messageId: str(body.MessageId)!, topicArn, message: str(body.Message)!, timestamp: str(body.Timestamp)!, subscribeUrl }
}
