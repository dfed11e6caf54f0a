/**
 * The shapes every provider module returns and the one error they throw. A provider file turns
 * its own format into ProviderEvent; nothing outside src/webhooks sees a provider's field names.
 */
import type { BounceReason } from '../inbound/reasons.ts'

export const PROVIDERS = ['ses', 'sendgrid', 'postmark', 'mailgun'] as const
export type Provider = (typeof PROVIDERS)[number]

/** What a tenant configured for a provider (stored by the caller; only read here). */
export type ProviderSettings =
  | { provider: 'ses'; topic_arns: string[] }
  | { provider: 'sendgrid'; public_key: string }
  | { provider: 'postmark'; username: string; password_sha256: string }
  | { provider: 'mailgun'; signing_key: string }

export type EventType = 'delivered' | 'bounced' | 'complained' | 'opened' | 'clicked' | 'unsubscribed' | 'delayed'

export interface BounceDetail {
  reason: BounceReason
  kind: 'hard' | 'soft'
  /** The enhanced status code (X.Y.Z) if the provider or its diagnostic gives one. */
  status: string | null
  diagnostic: string
}

export interface ProviderEvent {
  provider: Provider
  /** The provider's own id for the event, at most 150 characters, the same on every redelivery. */
  eventId: string
  type: EventType
  occurredAt: string
  /** Lowercased and trimmed. */
  recipient: string
  /** Our message id (a uuid) echoed back as `edp_message_id`, or null. */
  messageId: string | null
  /** RFC 5322 Message-IDs of the original message, with angle brackets. */
  rfc822MessageIds: string[]
  /** On 'bounced', and on 'delayed' when the provider said why (always soft there). */
  bounce?: BounceDetail
  complaint?: { feedbackType: string | null }
}

export type WebhookOutcome =
  | { kind: 'events'; events: ProviderEvent[] }
  /** An SNS SubscriptionConfirmation for an accepted topic; subscribeUrl is https on an SNS host. */
  | { kind: 'subscription'; topicArn: string; subscribeUrl: string }

export interface VerifyContext {
  /** ms since epoch, from the app clock. */
  now: number
  /** Fetches a PEM certificate; only called with a URL that passed the SNS host check. */
  fetchCertificate: (url: string) => Promise<string>
}

/**
 * A delivery that is not accepted: 'unauthenticated' when the signature or credentials do not
 * check out (or are missing), 'malformed' when the body is not the provider's format. Messages
 * never carry a secret; `field` names the offending part of the payload when there is one.
 */
export class WebhookRejected extends Error {
  override name = 'WebhookRejected'
  constructor(
    readonly reason: 'unauthenticated' | 'malformed',
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}
