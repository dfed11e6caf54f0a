import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { listAuditEntries } from '../../services/audit.ts'
import { OUTCOMES } from '../../tiers/oltp/audit-log.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, apiKey, json, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const AuditEntry = z
  .object({
    id: z.string().openapi({ description: 'Decimal; entries are numbered in the order they were written' }),
    tenant_id: Uuid.nullable(),
    actor: z.string().openapi({ description: '`api_key:<id>`, `admin`, `webhook:<provider>`, or `system` (a worker)' }),
    action: z.string().openapi({ description: 'What was done: `message.create`, `retention_policy.update`, `erasure.request`, `tenant.suspend` …' }),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    detail: z.unknown().openapi({ description: 'What changed (field names, counts), or a refusal’s status and problem code' }),
    request_id: z.string().nullable().openapi({ description: 'The server’s id of the request (null for workers and the CLI)' }),
    outcome: z.enum(OUTCOMES).openapi({
      description: 'succeeded; started (an intent recorded before a change outside the OLTP tier); rejected (4xx); failed (5xx)',
    }),
    created: Timestamp,
  })
  .openapi('AuditEntry')

const At = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .optional()

const AuditQuery = PageQuery.extend({
  action: z.string().min(1).max(100).optional().openapi({ example: 'message.create' }),
  from: At.openapi({ description: 'Entries written at or after this time', type: 'string', format: 'date-time' }),
  to: At.openapi({ description: 'Entries written before this time', type: 'string', format: 'date-time' }),
})

const DESCRIPTION =
  'Newest first. Every state-changing request and admin action writes an entry, in the transaction of the change where it is ' +
  'in the OLTP tier; a change in another tier is preceded by an intent entry (outcome started). Entries are append-only.'

/** GET /v1/audit-log: the tenant's own entries (scope admin). */
export function auditLogRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['audit'],
      operationId: 'listAuditLog',
      summary: 'The tenant’s audit trail',
      description: `Scope admin. ${DESCRIPTION} Another tenant’s entries never appear.`,
      security: apiKey,
      request: { query: AuditQuery },
      responses: { 200: json('A page of entries', pageSchema(AuditEntry), { data: [ex.auditEntry], next_cursor: null }), ...tenantErrors(422) },
    }),
    async (c) => {
      const { action, from, to, ...page } = c.req.valid('query')
      return c.json(await listAuditEntries(deps, c.get('tenantId'), { action, from, to }, page), 200)
    },
  )
}

/** GET /v1/admin/audit-log: every tenant's entries and the operator's own (admin token). */
export function adminAuditLogRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'get',
      path: '/audit-log',
      tags: ['audit'],
      operationId: 'listAdminAuditLog',
      summary: 'The audit trail across tenants',
      description: `Operator route (admin token). ${DESCRIPTION} tenant_id narrows it to one tenant.`,
      security: adminToken,
      request: { query: AuditQuery.extend({ tenant_id: Uuid.optional() }) },
      responses: { 200: json('A page of entries', pageSchema(AuditEntry), { data: [ex.auditEntry], next_cursor: null }), ...adminErrors(422) },
    }),
    async (c) => {
      const { tenant_id, action, from, to, ...page } = c.req.valid('query')
      return c.json(await listAuditEntries(deps, tenant_id ?? null, { action, from, to }, page), 200)
    },
  )
}
