import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { getTenantDeletion, requestTenantDeletion } from '../../services/erasure/requests.ts'
import { ADMIN_ACTOR } from '../../services/audit.ts'
import { createTenant, listTenants, updateTenant } from '../../services/tenants.ts'
import { ERASURE_STATUSES, TENANT_STATUSES } from '../../tiers/oltp/schema.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, idParam, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, Timestamp, Uuid } from '../schemas.ts'
import { TierCountsSchema } from './erasure-requests.ts'

const CreateTenant = z.object({ name: z.string().trim().min(1).max(200) })
const Limit = (max: number) => z.number().int().min(1).max(max).nullable()
const Limits = z.object({
  rate_limit_per_s: Limit(100_000).openapi({ description: 'Requests per second per key; null: the server default' }),
  rate_limit_burst: Limit(1_000_000).openapi({ description: 'Requests at once after idling; null: the server default' }),
})
const Change = Limits.partial().extend({
  status: z.enum(['active', 'suspended']).optional().openapi({ description: 'suspended: the tenant’s keys answer 403 from the next request; active again undoes it' }),
})
const Tenant = z
  .object({
    id: Uuid,
    name: z.string(),
    status: z.enum(TENANT_STATUSES).openapi({ description: 'active; suspended (keys answer 403); deleting (a deletion is under way)' }),
    created: Timestamp,
  })
  .extend(Limits.shape)
  .openapi('Tenant')
const TenantDeletion = z
  .object({ id: Uuid, tenant_id: Uuid, status: z.enum(ERASURE_STATUSES), requested_at: Timestamp, completed_at: NullableTimestamp, tiers: TierCountsSchema })
  .openapi('TenantDeletion')
const TenantId = idParam(ex.ID.tenant)

export function tenantRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['tenants'],
        operationId: 'createTenant',
        summary: 'Create a tenant and its first API key',
        description: 'Operator route (admin token). The key holds every scope and is shown in this answer only; keep it.',
        security: adminToken,
        request: { body: jsonBody(CreateTenant, { name: ex.tenant.name }) },
        responses: {
          201: json('The tenant and its API key, shown only this once', z.object({ id: Uuid, tenant: Tenant, api_key: z.string() }), {
            id: ex.tenant.id,
            tenant: ex.tenant,
            api_key: ex.API_KEY,
          }),
          ...adminErrors(...JSON_BODY),
        },
      }),
      async (c) => {
        const { tenant, api_key } = await createTenant(deps, c.req.valid('json').name)
        return c.json({ id: tenant.id, tenant, api_key }, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['tenants'],
        operationId: 'listTenants',
        summary: 'List tenants, newest first',
        description: 'Operator route (admin token). Keyset pagination: pass next_cursor back as cursor.',
        security: adminToken,
        request: { query: PageQuery },
        responses: { 200: json('A page of tenants', pageSchema(Tenant), { data: [ex.tenant], next_cursor: null }), ...adminErrors(422) },
      }),
      async (c) => c.json(await listTenants(deps, c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}',
        tags: ['tenants'],
        operationId: 'updateTenant',
        summary: 'Suspend or reactivate a tenant, or set its own rate limits',
        description:
          'Operator route (admin token). A field left out keeps its value; a null limit puts the server default back. ' +
          'A suspended tenant’s keys answer 403 from the next request, and its provider webhooks 401. A tenant being deleted cannot change (409).',
        security: adminToken,
        request: { params: TenantId, body: jsonBody(Change, { status: 'suspended' }) },
        responses: { 200: json('The tenant', Tenant, ex.suspendedTenant), ...adminErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => c.json(await updateTenant(deps, c.req.valid('param').id, c.req.valid('json')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['tenants'],
        operationId: 'deleteTenant',
        summary: 'Delete a suspended tenant from every tier',
        description:
          'Operator route (admin token). Accepted at once (202): the tenant moves to deleting and a job removes every row of it in the ' +
          'four tiers (content, blobs, analytics, queue messages, audit entries), in batches, resuming after a crash; the tenant row goes ' +
          'last. What stays is this request and the audit entries about it. A tenant still active is refused (409): suspend it first. ' +
          'Asking again answers the deletion already under way.',
        security: adminToken,
        request: { params: TenantId },
        responses: { 202: json('The deletion, under way', TenantDeletion, { ...ex.tenantDeletion, status: 'pending', tiers: { oltp: {}, content: {}, analytics: {}, queue: {} } }), ...adminErrors(404, 409, 422) },
      }),
      async (c) => c.json(await requestTenantDeletion(deps, c.req.valid('param').id, ADMIN_ACTOR), 202),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/deletion',
        tags: ['tenants'],
        operationId: 'getTenantDeletion',
        summary: 'A tenant’s deletion: its status and what it removed in each tier',
        description: 'Operator route (admin token). Answers also once the tenant is gone; 404 when it was never asked.',
        security: adminToken,
        request: { params: TenantId },
        responses: { 200: json('The deletion', TenantDeletion, ex.tenantDeletion), ...adminErrors(404, 422) },
      }),
      async (c) => c.json(await getTenantDeletion(deps, c.req.valid('param').id), 200),
    )
}
