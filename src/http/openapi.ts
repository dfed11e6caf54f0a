/**
 * What describes the API rather than serves it: the OpenAPI document at /openapi.json (built from
 * the routes' zod schemas, plus what no route carries: servers, tags, the two security schemes and
 * /metrics, whose handler is plain Hono) and the interactive reference at /docs. Both are public:
 * they describe the API and hold no data.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import type { AppEnv } from './env.ts'
import { adminErrors, adminToken, problemComponents, ProblemSchema } from './schemas.ts'

/**
 * The reference page is static HTML whose script comes from jsDelivr, pinned to one version (left
 * alone, the page would load whatever version is latest that day). Serving the bundle ourselves
 * would take @scalar/api-reference as a dependency: measured, 480 more packages and 341 MB in
 * node_modules for one 4.8 MB file. So /docs needs a browser that can reach the CDN.
 */
export const SCALAR_BUNDLE = 'https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js'

export const DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Email data platform API',
    version: '1',
    description:
      'Message metadata and content in separate tiers, events and analytics, retention. JSON with snake_case fields; ' +
      'lists answer `{ data, next_cursor }`, newest first; every error is `application/problem+json`. Tenant routes take ' +
      'an API key, operator routes the admin token, both as `Authorization: Bearer …`.',
  },
  servers: [{ url: 'http://127.0.0.1:3000', description: '`npm start` on this machine (the default HOST and PORT)' }],
  tags: [
    { name: 'messages', description: 'Outbound and inbound mail: refs in the OLTP tier, bodies and attachments in the content tier' },
    { name: 'email accounts', description: 'The tenant’s mailboxes' },
    { name: 'campaigns', description: 'Campaigns and their sequence steps' },
    { name: 'leads', description: 'The people campaigns write to' },
    { name: 'suppressions', description: 'Addresses not to mail: hard bounces, complaints, repeated soft bounces, by hand' },
    { name: 'webhooks', description: 'Provider event webhooks (SES, SendGrid, Postmark, Mailgun): verified, matched, counted, suppressing' },
    { name: 'analytics', description: 'Events in, counts and rates out, fresh within seconds' },
    { name: 'content', description: 'Transactional email, notifications, retention and storage' },
    { name: 'api keys', description: 'The tenant’s keys and their scopes' },
    { name: 'privacy', description: 'Erasing a person from every tier: requests and what each one erased' },
    { name: 'tenants', description: 'Operator routes: tenants, their limits, suspension and deletion' },
    { name: 'operations', description: 'Health, readiness, queues, storage and metrics' },
  ],
}

const METRICS_EXAMPLE = `# HELP edp_queue_depth Messages waiting in a queue (visible or not)
# TYPE edp_queue_depth gauge
edp_queue_depth{queue="jobs"} 3
edp_queue_depth{queue="events"} 120
`

/** Documented here: its handler (app.ts) is plain Hono, since it answers text rather than JSON. */
const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  operationId: 'getMetrics',
  summary: 'Prometheus metrics',
  description:
    'Operator route (admin token). Queue depth, oldest age, rates and dead letters; analytics freshness and refresh time; ' +
    'worker heartbeat age; HTTP latency by route pattern; process metrics. Rendered at most once a second.',
  security: adminToken,
  responses: {
    200: {
      description: 'The Prometheus text exposition format',
      content: { 'text/plain; version=0.0.4': { schema: z.string(), example: METRICS_EXAMPLE } },
    },
    ...adminErrors(),
  },
})

/** Registers the security schemes and /metrics in the document, and serves /openapi.json and /docs. */
export function describeApi(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant’s API key (`edp_…`), shown once when it is made; each route needs one of its scopes',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator’s ADMIN_TOKEN (or one of ADMIN_TOKENS)',
  })
  app.openAPIRegistry.register('Problem', ProblemSchema)
  for (const [name, response] of problemComponents()) app.openAPIRegistry.registerComponent('responses', name, response)
  app.openAPIRegistry.registerPath(metricsRoute)
  app.doc31('/openapi.json', DOCUMENT)
  app.get(
    '/docs',
    Scalar({
      url: '/openapi.json',
      pageTitle: DOCUMENT.info.title,
      cdn: SCALAR_BUNDLE,
      // The page loads nothing else from elsewhere: system fonts, and no usage reports from the reader's browser.
      withDefaultFonts: false,
      telemetry: false,
    }),
  )
}
