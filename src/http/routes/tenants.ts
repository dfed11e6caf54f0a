import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createTenant, setLimits } from '../../services/tenants.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { adminErrors, adminToken, idParam, json, JSON_BODY, jsonBody, Timestamp, Uuid } from '../schemas.ts'

const CreateTenant = z.object({ name: z.string().trim().min(1).max(200) })
const Limit = (max: number) => z.number().int().min(1).max(max).nullable()
const Limits = z.object({
  rate_limit_per_s: Limit(100_000).openapi({ description: 'Requests per second per key; null: the server default' }),
  rate_limit_burst: Limit(1_000_000).openapi({ description: 'Requests at once after idling; null: the server default' }),
})
const Tenant = z.object({ id: Uuid, name: z.string(), status: z.string(), created: Timestamp }).extend(Limits.shape)

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
        method: 'patch',
        path: '/{id}',
        tags: ['tenants'],
        operationId: 'updateTenantLimits',
        summary: 'Set a tenant’s own rate limits',
        description: 'Operator route (admin token). A field left out keeps its value; null puts the server default back.',
        security: adminToken,
        request: { params: idParam(ex.ID.tenant), body: jsonBody(Limits.partial(), { rate_limit_per_s: 50, rate_limit_burst: null }) },
        responses: { 200: json('The tenant', Tenant, { ...ex.tenant, rate_limit_per_s: 50 }), ...adminErrors(...JSON_BODY, 404) },
      }),
      async (c) => {
        // PATCH: a field left out keeps its value; null puts the default back.
        return c.json(await setLimits(deps, c.req.valid('param').id, c.req.valid('json')), 200)
      },
    )
}
