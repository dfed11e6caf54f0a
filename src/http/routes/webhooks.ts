import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { configureWebhook, receiveProviderWebhook, webhookConfiguration } from '../../services/webhooks.ts'
import { PROVIDERS } from '../../webhooks/index.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, json, JSON_BODY, jsonBody, problems, tenantErrors, Uuid } from '../schemas.ts'

const Provider = z.enum(PROVIDERS).openapi({ param: { name: 'provider', in: 'path' }, example: 'mailgun' })

const Settings = z.discriminatedUnion('provider', [
  z.object({
    provider: z.literal('ses'),
    topic_arns: z
      .array(z.string().regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'must be an SNS topic ARN'))
      .min(1)
      .max(20)
      .openapi({ description: 'The SNS topics whose notifications this tenant accepts (each notification is verified against SNS’s certificate)' }),
  }),
  z.object({
    provider: z.literal('sendgrid'),
    public_key: z.string().trim().min(40).max(2000).openapi({ description: 'The Signed Event Webhook’s verification key (base64 DER or PEM)' }),
  }),
  z.object({
    provider: z.literal('postmark'),
    username: z.string().min(1).max(100),
    password: z.string().min(16).max(200).openapi({ description: 'Put both in the webhook URL Postmark calls (https://user:password@host/…); only its sha256 is stored' }),
  }),
  z.object({
    provider: z.literal('mailgun'),
    signing_key: z.string().trim().min(16).max(200).openapi({ description: 'The HTTP webhook signing key from Mailgun’s settings' }),
  }),
])

const Configuration = z
  .object({
    provider: z.enum(PROVIDERS),
    configured: z.boolean(),
    url: z.string().openapi({ description: 'The path to give the provider, on this API’s public address' }),
    topic_arns: z.array(z.string()).optional(),
    username: z.string().optional(),
  })
  .openapi('WebhookConfiguration')

const Result = z
  .object({
    received: z.number().int().openapi({ description: 'Events in the delivery the platform counts or acts on' }),
    duplicates: z.number().int().openapi({ description: 'Seen before (by the provider’s event id): not applied again' }),
    unmatched: z.number().int().openapi({ description: 'Naming none of your messages: they may suppress, but count nowhere' }),
    rejected: z.array(z.object({ event_id: z.string(), code: z.string(), detail: z.string(), field: z.string().optional() })),
    suppressed: z.array(z.string()).openapi({ description: 'Addresses this delivery added to the suppression list' }),
    subscribed: z.string().optional().openapi({ description: 'The SNS topic whose subscription this delivery confirmed' }),
  })
  .openapi('WebhookResult')

/** Tenant routes (API key, scope admin): what each provider signs with. */
export function webhookSettingsRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'put',
        path: '/',
        tags: ['webhooks'],
        operationId: 'configureWebhook',
        summary: 'Store the key or credentials a provider’s event webhook is verified with',
        description: 'Scope admin. Replaces the provider’s earlier settings. The answer says which URL to give the provider.',
        security: apiKey,
        request: { body: jsonBody(Settings, { provider: 'mailgun', signing_key: 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0' }) },
        responses: { 200: json('Stored', Configuration, ex.webhookConfiguration), ...tenantErrors(...JSON_BODY) },
      }),
      async (c) => c.json(await configureWebhook(deps, c.get('tenantId'), c.req.valid('json')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{provider}',
        tags: ['webhooks'],
        operationId: 'getWebhookConfiguration',
        summary: 'Whether a provider is configured, and the URL to give it',
        description: 'Scope admin. Never shows a key or password.',
        security: apiKey,
        request: { params: z.object({ provider: Provider }) },
        responses: { 200: json('The configuration', Configuration, ex.webhookConfiguration), ...tenantErrors(422) },
      }),
      async (c) => c.json(await webhookConfiguration(deps, c.get('tenantId'), c.req.valid('param').provider), 200),
    )
}

/** The receiving end: no API key (providers cannot send one); the provider's signature or credentials authenticate. */
export function webhookRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'post',
      path: '/{provider}',
      tags: ['webhooks'],
      operationId: 'receiveProviderWebhook',
      summary: 'Receive a provider’s delivery, bounce, complaint, open, click and unsubscribe events',
      description:
        'No API key: the delivery is verified with what the tenant stored (SES: the SNS signature and an accepted topic; ' +
        'SendGrid: the ECDSA signature; Postmark: HTTP Basic credentials; Mailgun: the HMAC signature; a signature more than ' +
        '5 minutes old is refused). Anything that does not verify answers 401, the same for an unknown tenant. Events are ' +
        'matched to your messages by edp_message_id (custom args, metadata, user variables or an SES tag) or by Message-ID; ' +
        'bounces and complaints suppress as inbound mail does; a redelivered event changes nothing.',
      security: [],
      request: {
        params: z.object({ provider: Provider }),
        query: z.object({ tenant_id: Uuid.openapi({ param: { name: 'tenant_id', in: 'query' }, example: ex.ID.tenant }) }),
        // SNS posts its JSON as text/plain.
        body: {
          required: true,
          content: { 'application/json': { schema: z.unknown(), example: ex.mailgunEvent }, 'text/plain': { schema: z.string(), example: ex.snsEnvelope } },
        },
      },
      responses: { 200: json('Applied', Result, ex.webhookResult), ...problems(400, 401, 413, 415, 422, 500, 503) },
    }),
    async (c) => {
      // The raw text: signatures are over the exact bytes, and SNS sends JSON as text/plain.
      const { provider } = c.req.valid('param')
      const result = await receiveProviderWebhook(deps, c.req.valid('query').tenant_id, provider, await c.req.text(), c.req.raw.headers)
      return c.json(result, 200)
    },
  )
}
