/**
 * Provider event webhooks, verified and normalised: Amazon SES (through SNS), SendGrid, Postmark
 * and Mailgun. Pure: no database, no HTTP; the caller passes the raw body, the request headers,
 * the tenant's settings for the provider and a clock, and stores what comes back. Nothing is
 * read into events before the provider's signature or credentials check out.
 */
import { receiveMailgun } from './mailgun.ts'
import { receivePostmark } from './postmark.ts'
import { receiveSendgrid } from './sendgrid.ts'
import { receiveSes } from './ses.ts'
import { WebhookRejected, type ProviderSettings, type VerifyContext, type WebhookOutcome } from './types.ts'

export { PROVIDERS, WebhookRejected } from './types.ts'
export type { BounceDetail, EventType, Provider, ProviderEvent, ProviderSettings, VerifyContext, WebhookOutcome } from './types.ts'

/**
 * Verifies and normalises one delivery. Throws WebhookRejected when it does not verify or is not
 * the provider's format; an error from ctx.fetchCertificate is passed on as it is, so the caller
 * can answer 5xx and SNS retries.
 */
export async function receiveWebhook(settings: ProviderSettings, rawBody: string, headers: Headers, ctx: VerifyContext): Promise<WebhookOutcome> {
  switch (settings.provider) {
    case 'ses':
      return receiveSes(settings, rawBody, ctx)
    case 'sendgrid':
      return receiveSendgrid(settings, rawBody, headers, ctx.now)
    case 'postmark':
      return receivePostmark(settings, rawBody, headers)
    case 'mailgun':
      return receiveMailgun(settings, rawBody, ctx.now)
    default:
      // Settings come from storage: an unknown provider there verifies nothing.
      throw new WebhookRejected('unauthenticated', 'no verifier for this provider')
  }
}
