/**
 * The audit trail's HTTP side. A successful change is recorded by its service, inside the change's
 * own transaction (src/services/audit.ts); this middleware only (1) names the actor for the rows
 * the request writes and (2) records a state-changing request that was refused (4xx, outcome
 * `rejected`) or failed (5xx, `failed`), after the answer, in a transaction of its own: nothing
 * changed, so there is nothing to be atomic with. A 2xx is never recorded here, so a success is
 * never recorded twice. Mounted after the credential check: a request without a valid key or admin
 * token (and one refused by the rate limit, which is checked with the key) is not recorded; the
 * access log has it.
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { isUuid } from '../ids.ts'
import { ADMIN_ACTOR, apiKeyActor, recordRefusal, withAuditScope } from '../services/audit.ts'
import type { AppEnv } from './env.ts'
import { routePattern } from './request-log.ts'

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The action each state-changing route records, by method and route pattern: what a refusal is
 * recorded as, and what the route's service records on success (tests/api/audit-trail.test.ts
 * holds every non-GET operation of the OpenAPI document to this table).
 */
export const ROUTE_ACTIONS: Record<string, string> = {
  'POST /v1/tenants': 'tenant.create',
  'PATCH /v1/tenants/:id': 'tenant.update',
  'DELETE /v1/tenants/:id': 'tenant.delete',
  'POST /v1/api-keys': 'api_key.create',
  'DELETE /v1/api-keys/:id': 'api_key.revoke',
  'POST /v1/email-accounts': 'email_account.create',
  'PATCH /v1/email-accounts/:id': 'email_account.update',
  'DELETE /v1/email-accounts/:id': 'email_account.delete',
  'POST /v1/campaigns': 'campaign.create',
  'PATCH /v1/campaigns/:id': 'campaign.update',
  'DELETE /v1/campaigns/:id': 'campaign.delete',
  'POST /v1/campaigns/:id/steps': 'sequence_step.create',
  'PATCH /v1/campaigns/:id/steps/:step_id': 'sequence_step.update',
  'DELETE /v1/campaigns/:id/steps/:step_id': 'sequence_step.delete',
  'POST /v1/leads': 'lead.create',
  'POST /v1/leads/import': 'lead.import',
  'PATCH /v1/leads/:id': 'lead.update',
  'DELETE /v1/leads/:id': 'lead.delete',
  'POST /v1/suppressions': 'suppression.create',
  'DELETE /v1/suppressions/:email': 'suppression.delete',
  'POST /v1/messages': 'message.create',
  'POST /v1/messages/batch': 'message.create',
  'POST /v1/inbound': 'message.create',
  'POST /v1/events': 'event.create',
  'PUT /v1/retention-policy': 'retention_policy.update',
  'POST /v1/transactional-emails': 'transactional_email.create',
  'POST /v1/notifications': 'notification.create',
  'PATCH /v1/notifications/:id': 'notification.update',
  'PUT /v1/webhook-settings': 'webhook_settings.update',
  'POST /v1/erasure-requests': 'erasure.request',
}

/** The action a request records: from the table, else its method and route (a route added without an entry still leaves a trace). */
export function routeAction(c: Context): string {
  const pattern = routePattern(c) ?? c.req.path
  return ROUTE_ACTIONS[`${c.req.method} ${pattern}`] ?? `${c.req.method} ${pattern}`
}

/** The tenant a refused request concerned: the key's, or on operator routes the tenant in the path. */
function tenantOf(c: Context<AppEnv>, admin: boolean): string | null {
  if (!admin) return c.get('tenantId') ?? null
  const id = c.req.path.startsWith('/v1/tenants/') ? c.req.param('id') : undefined
  return id !== undefined && isUuid(id) ? id.toLowerCase() : null
}

/** After tenantAuth (`api_key:<id>`) or adminAuth (`admin`). */
export const auditTrail = (deps: Deps, who: 'key' | 'admin') =>
  createMiddleware<AppEnv>(async (c, next) => {
    const actor = who === 'admin' ? ADMIN_ACTOR : apiKeyActor(c.get('apiKey').id)
    await withAuditScope({ actor, recordsFailures: true }, next)
    if (READS.has(c.req.method) || c.res.status < 400) return
    const target = (c.req.param('step_id') ?? c.req.param('id') ?? c.req.param('email'))?.slice(0, 100)
    await recordRefusal(deps, {
      tenantId: tenantOf(c, who === 'admin'),
      actor,
      action: routeAction(c),
      targetType: null,
      targetId: target ?? null,
      status: c.res.status,
      code: c.error instanceof AppError ? c.error.code : undefined,
    }).catch((err) => c.get('log').warn({ err }, 'the audit row of a refused request was not written'))
  })
