/**
 * Provider event webhooks (Amazon SES via SNS, SendGrid, Postmark, Mailgun): a tenant stores the
 * key or credentials its provider signs with; each delivery is verified with them (src/webhooks),
 * matched to the tenant's outbound messages, and applied like inbound mail's answers: a bounce
 * marks its message bounced and may suppress the address, in one OLTP transaction with the
 * receipt of the provider's event id (so a redelivery changes nothing twice); the events then go
 * to the analytics queue under `<provider>:<event id>`, which the apply step dedupes, so they are
 * sent again on every redelivery and a crash between the two writes loses nothing.
 */
import { createHash, createPublicKey } from 'node:crypto'
import type { Deps } from '../deps.ts'
import { audit, withAuditScope } from './audit.ts'
import { AppError, invalid } from '../errors.ts'
import { isUuid } from '../ids.ts'
import { findByRfc822Ids, getMessageRefs, markBounced, type MessageRefRow } from '../tiers/oltp/messages.ts'
import { firstReceipts, getWebhookSettings, putWebhookSettings } from '../tiers/oltp/suppressions.ts'
import { receiveWebhook, WebhookRejected, type Provider, type ProviderEvent, type ProviderSettings } from '../webhooks/index.ts'
import { acceptEvents, type IncomingEvent, type Rejection } from './events.ts'
import { applySignals, type DeliverySignal } from './suppressions.ts'

/** What a tenant sends to configure a provider; secrets are kept as the provider needs them (a password only hashed). */
export type WebhookSettingsInput =
  | { provider: 'ses'; topic_arns: string[] }
  | { provider: 'sendgrid'; public_key: string }
  | { provider: 'postmark'; username: string; password: string }
  | { provider: 'mailgun'; signing_key: string }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

function stored(input: WebhookSettingsInput): ProviderSettings {
  switch (input.provider) {
    case 'postmark':
      return { provider: 'postmark', username: input.username, password_sha256: sha256(input.password) }
    case 'sendgrid': {
      const key = input.public_key.trim()
      try {
        const pem = key.startsWith('-----') ? key : Buffer.from(key, 'base64')
        const parsed = typeof pem === 'string' ? createPublicKey(pem) : createPublicKey({ key: pem, format: 'der', type: 'spki' })
        if (parsed.asymmetricKeyType !== 'ec') throw new Error('not an EC key')
      } catch {
        throw invalid('public_key is not an ECDSA public key (base64 DER or PEM, as SendGrid shows it)', 'public_key', 'not an EC public key')
      }
      return { provider: 'sendgrid', public_key: key }
    }
    default:
      return input
  }
}

/** What GET shows: never a secret. */
function described(tenantId: string, provider: Provider, s: ProviderSettings | undefined) {
  return {
    provider,
    configured: s !== undefined,
    url: `/v1/webhooks/${provider}?tenant_id=${tenantId}`,
    ...(s?.provider === 'ses' ? { topic_arns: s.topic_arns } : {}),
    ...(s?.provider === 'postmark' ? { username: s.username } : {}),
  }
}

export async function configureWebhook(deps: Deps, tenantId: string, input: WebhookSettingsInput) {
  const settings = stored(input)
  await deps.tiers.oltp.transaction(async (tx) => {
    await putWebhookSettings(tx, tenantId, input.provider, settings)
    await audit(tx, { tenantId, action: 'webhook_settings.update', targetType: 'webhook_settings', targetId: input.provider })
  })
  return described(tenantId, input.provider, settings)
}

export async function webhookConfiguration(deps: Deps, tenantId: string, provider: Provider) {
  return described(tenantId, provider, (await getWebhookSettings(deps.tiers.oltp, tenantId, provider)) as ProviderSettings | undefined)
}

export interface WebhookResult {
  /** Events in the delivery the platform counts or acts on. */
  received: number
  /** Of those, the ones seen before (a redelivery): not applied again. */
  duplicates: number
  /** Events naming none of the tenant's messages: they can still suppress, but count nowhere. */
  unmatched: number
  /** Events the analytics intake refused (e.g. dated outside the accepted window). */
  rejected: Rejection[]
  /** Addresses this delivery added to the suppression list. */
  suppressed: string[]
  /** An SNS subscription confirmed. */
  subscribed?: string
}

/** Provider deliveries carry no API key: the provider, verified by its signature, is who acts. */
const webhookActor = (provider: Provider) => `webhook:${provider}`

/** The one answer to anything that does not verify, so a caller learns nothing about which tenants or providers exist. */
const unverified = () => new AppError('unauthorized', 'this delivery could not be verified for that tenant and provider')

export async function receiveProviderWebhook(
  deps: Deps,
  tenantId: string,
  provider: Provider,
  rawBody: string,
  headers: Headers,
): Promise<WebhookResult> {
  const settings = isUuid(tenantId) ? ((await getWebhookSettings(deps.tiers.oltp, tenantId, provider)) as ProviderSettings | undefined) : undefined
  if (!settings) throw unverified()
  let outcome
  try {
    outcome = await receiveWebhook(settings, rawBody, headers, { now: deps.clock.now(), fetchCertificate: deps.fetchText })
  } catch (err) {
    if (!(err instanceof WebhookRejected)) throw err
    if (err.reason === 'unauthenticated') throw unverified()
    throw invalid(`not a ${provider} event delivery: ${err.message}`, err.field ?? '(body)', err.message)
  }
  if (outcome.kind === 'subscription') {
    await deps.fetchText(outcome.subscribeUrl)
    return { received: 0, duplicates: 0, unmatched: 0, rejected: [], suppressed: [], subscribed: outcome.topicArn }
  }
  return applyProviderEvents(deps, tenantId, provider, outcome.events)
}

/** Each event's outbound message: by the id we sent as edp_message_id, else by its Message-ID. */
async function originals(deps: Deps, tenantId: string, events: readonly ProviderEvent[]) {
  const ids = [...new Set(events.map((e) => e.messageId).filter((id): id is string => id !== null))]
  const rfcIds = [...new Set(events.flatMap((e) => e.rfc822MessageIds))]
  const [byId, byRfc] = await Promise.all([
    ids.length ? getMessageRefs(deps.tiers.oltp, tenantId, ids) : [],
    rfcIds.length ? findByRfc822Ids(deps.tiers.oltp, tenantId, rfcIds) : [],
  ])
  const outbound = (r: MessageRefRow) => r.direction === 'outbound'
  const idMap = new Map(byId.filter(outbound).map((r) => [r.id, r]))
  const rfcMap = new Map(byRfc.filter(outbound).map((r) => [r.rfc822_message_id, r]))
  return new Map(
    events.map((e) => [
      e,
      (e.messageId ? idMap.get(e.messageId) : undefined) ?? e.rfc822MessageIds.map((id) => rfcMap.get(id)).find(Boolean) ?? null,
    ]),
  )
}

function signalOf(provider: Provider, e: ProviderEvent, original: MessageRefRow | null): DeliverySignal | null {
  const from = { source: `webhook:${provider}`, sourceMessageId: original?.id ?? null }
  const emails = [e.recipient]
  switch (e.type) {
    case 'bounced':
      return e.bounce ? { kind: 'bounce', emails, bounceType: e.bounce.kind, reason: e.bounce.reason, ...from } : null
    case 'complained':
      return { kind: 'complaint', emails, ...from }
    case 'unsubscribed':
      return { kind: 'unsubscribe', emails, ...from }
    case 'delivered':
    case 'opened':
    case 'clicked':
      return { kind: 'alive', emails }
    case 'delayed':
      return null
  }
}

export async function applyProviderEvents(deps: Deps, tenantId: string, provider: Provider, events: readonly ProviderEvent[]): Promise<WebhookResult> {
  const matched = await originals(deps, tenantId, events)
  const { fresh, suppressed } = await deps.tiers.oltp.transaction(async (tx) => {
    const fresh = await firstReceipts(tx, tenantId, provider, events.map((e) => e.eventId))
    const signals: DeliverySignal[] = []
    for (const e of events) {
      if (!fresh.has(e.eventId)) continue
      const original = matched.get(e) ?? null
      if (e.type === 'bounced' && original) await markBounced(tx, tenantId, original.id)
      const s = signalOf(provider, e, original)
      if (s) signals.push(s)
    }
    const added = await applySignals(tx, deps.config, tenantId, signals)
    await audit(tx, {
      tenantId,
      actor: webhookActor(provider),
      action: 'webhook.receive',
      targetType: 'webhook',
      targetId: provider,
      detail: { received: events.length, fresh: fresh.size, suppressed: added.length },
    })
    return { fresh, suppressed: added.map((r) => r.email) }
  })

  // Every matched event, fresh or not: the analytics apply dedupes on the event id.
  const counted: IncomingEvent[] = []
  for (const e of events) {
    const original = matched.get(e)
    if (!original || e.type === 'delayed') continue
    counted.push({
      event_id: `${provider}:${e.eventId}`,
      message_id: original.id,
      type: e.type,
      occurred_at: e.occurredAt,
      bounce_type: e.bounce?.kind,
      metadata: {
        provider,
        recipient: e.recipient,
        ...(e.bounce ? { reason: e.bounce.reason, status: e.bounce.status } : {}),
        ...(e.complaint?.feedbackType ? { feedback_type: e.complaint.feedbackType } : {}),
      },
    })
  }
  const { rejected } = counted.length ? await withAuditScope({ actor: webhookActor(provider) }, () => acceptEvents(deps, tenantId, counted)) : { rejected: [] }
  return {
    received: events.length,
    duplicates: events.filter((e) => !fresh.has(e.eventId)).length,
    unmatched: events.filter((e) => !matched.get(e)).length,
    rejected,
    suppressed,
  }
}
