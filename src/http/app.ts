import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { router } from './env.ts'
import { onError, problem } from './problem.ts'
import { adminAuth, requireScope, tenantAuth } from './auth.ts'
import { auditTrail } from './audit-trail.ts'
import { largeBodyGate } from './body-gate.ts'
import { jsonEndsWithNewline } from './json-newline.ts'
import { describeIdempotency, idempotency } from './idempotency.ts'
import { createMetrics } from './metrics.ts'
import { describeApi } from './openapi.ts'
import { requestIds } from './request-id.ts'
import { requestLog } from './request-log.ts'
import { healthRoutes } from './routes/health.ts'
import { tenantRoutes } from './routes/tenants.ts'
import { emailAccountRoutes } from './routes/email-accounts.ts'
import { campaignRoutes } from './routes/campaigns.ts'
import { leadRoutes } from './routes/leads.ts'
import { messageRoutes } from './routes/messages.ts'
import { adminRoutes } from './routes/admin.ts'
import { overviewRoutes } from './routes/overview.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { eventRoutes } from './routes/events.ts'
import { inboundRoutes } from './routes/inbound.ts'
import { storageRoutes } from './routes/storage.ts'
import { retentionRoutes } from './routes/retention.ts'
import { transactionalEmailRoutes } from './routes/transactional-emails.ts'
import { notificationRoutes } from './routes/notifications.ts'
import { analyticsRoutes } from './routes/analytics.ts'
import { apiKeyRoutes } from './routes/api-keys.ts'
import { suppressionRoutes } from './routes/suppressions.ts'
import { webhookRoutes, webhookSettingsRoutes } from './routes/webhooks.ts'
import { erasureRequestRoutes } from './routes/erasure-requests.ts'
import { adminAuditLogRoutes, auditLogRoutes } from './routes/audit-log.ts'

/**
 * Every answer forbids MIME sniffing, and JSON is not cached by browsers or proxies (it carries
 * tenant data) unless its route chose a Cache-Control of its own.
 */
const safeResponseHeaders = createMiddleware(async (c, next) => {
  await next()
  c.res.headers.set('X-Content-Type-Options', 'nosniff')
  if (/json/.test(c.res.headers.get('content-type') ?? '') && !c.res.headers.has('cache-control')) {
    c.res.headers.set('Cache-Control', 'no-store')
  }
})

export function createApp(deps: Deps) {
  // Operator routes compare against it: an app without one would have no way in, or a trivial one.
  if (deps.adminToken.length < 16) throw new Error('the HTTP app needs an admin token of at least 16 characters')
  const app = router()
  const metrics = createMetrics(deps)

  app.use(requestIds(deps.log))
  // The matched pattern, not the path: ids would make one series per message.
  app.use(requestLog((c, seconds) => metrics.observe(c.req.method, c.req.routePath, c.res.status, seconds)))
  app.use(safeResponseHeaders)
  app.use(jsonEndsWithNewline)
  app.use(largeBodyGate(deps.config))
  app.use(
    bodyLimit({
      maxSize: deps.config.MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('payload_too_large', `request body exceeds ${deps.config.MAX_BODY_BYTES} bytes`)
      },
    }),
  )

  app.onError(onError)
  app.notFound((c) => problem(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`)))

  const admin = adminAuth(deps)
  // After the credential (and, on tenant routes, the rate limit and scope): their refusals claim no key.
  const idempotent = idempotency(deps)
  app.route('/', healthRoutes(deps))
  app.get('/metrics', admin, async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.registry.contentType }))

  // The audit trail follows the credential: who acts is known, and refusals before it are not recorded.
  const adminAudit = auditTrail(deps, 'admin')
  app.use('/v1/tenants/*', admin, adminAudit, idempotent.operator)
  app.route('/v1/tenants', tenantRoutes(deps))
  // Providers cannot send an API key: each delivery is verified by its signature (src/webhooks).
  app.route('/v1/webhooks', webhookRoutes(deps))
  app.use('/v1/admin/*', admin, adminAudit, idempotent.operator)
  app.route('/v1/admin', adminRoutes(deps))
  app.route('/v1/admin', overviewRoutes(deps))
  app.route('/v1/admin', adminAuditLogRoutes(deps))
  // The page is public: it holds no data, and asks for the admin token to read the overview.
  app.route('/dashboard', dashboardRoutes())

  // Each tenant route group and the scopes it needs: `read` for GET, `write` for the rest.
  const tenantScoped = [
    { path: '/v1/email-accounts', routes: emailAccountRoutes(deps), read: 'campaigns:read', write: 'campaigns:write' },
    { path: '/v1/campaigns', routes: campaignRoutes(deps), read: 'campaigns:read', write: 'campaigns:write' },
    { path: '/v1/leads', routes: leadRoutes(deps), read: 'leads:read', write: 'leads:write' },
    { path: '/v1/suppressions', routes: suppressionRoutes(deps), read: 'leads:read', write: 'leads:write' },
    { path: '/v1/messages', routes: messageRoutes(deps), read: 'messages:read', write: 'messages:write' },
    { path: '/v1/events', routes: eventRoutes(deps), read: 'analytics:read', write: 'events:write' },
    { path: '/v1/inbound', routes: inboundRoutes(deps), read: 'messages:read', write: 'inbound:write' },
    { path: '/v1/storage', routes: storageRoutes(deps), read: 'admin', write: 'admin' },
    { path: '/v1/retention-policy', routes: retentionRoutes(deps), read: 'admin', write: 'admin' },
    { path: '/v1/transactional-emails', routes: transactionalEmailRoutes(deps), read: 'messages:read', write: 'messages:write' },
    { path: '/v1/notifications', routes: notificationRoutes(deps), read: 'messages:read', write: 'messages:write' },
    { path: '/v1/analytics', routes: analyticsRoutes(deps), read: 'analytics:read', write: 'analytics:read' },
    { path: '/v1/api-keys', routes: apiKeyRoutes(deps), read: 'admin', write: 'admin' },
    { path: '/v1/webhook-settings', routes: webhookSettingsRoutes(deps), read: 'admin', write: 'admin' },
    { path: '/v1/erasure-requests', routes: erasureRequestRoutes(deps), read: 'admin', write: 'admin' },
    { path: '/v1/audit-log', routes: auditLogRoutes(deps), read: 'admin', write: 'admin' },
  ] as const
  const auth = tenantAuth(deps)
  const keyAudit = auditTrail(deps, 'key')
  for (const { path, routes, read, write } of tenantScoped) {
    app.use(`${path}/*`, auth, keyAudit, requireScope({ read, write }), idempotent.tenant)
    app.route(path, routes)
  }

  describeIdempotency(app)
  describeApi(app)
  return app
}

