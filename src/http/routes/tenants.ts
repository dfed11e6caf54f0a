import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createTenant, setLimits } from '../../services/tenants.ts'
import { router } from '../env.ts'
import { commonErrors, IdParam, json, jsonBody, Timestamp, Uuid, security } from '../schemas.ts'

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
        summary: 'Create a tenant and its first API key (admin token)',
        security,
        request: { body: jsonBody(CreateTenant) },
        responses: {
          201: json('The tenant and its API key, shown only this once', z.object({ id: Uuid, tenant: Tenant, api_key: z.string() })),
          401: commonErrors[401],
          422: commonErrors[422],
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
        summary: 'Set the tenant’s own rate limits (admin token)',
        security,
        request: { params: IdParam, body: jsonBody(Limits.partial()) },
        responses: { 200: json('The tenant', Tenant), 401: commonErrors[401], 404: commonErrors[404], 422: commonErrors[422] },
      }),
      async (c) => {
        // PATCH: a field left out keeps its value; null puts the default back.
        return c.json(await setLimits(deps, c.req.valid('param').id, c.req.valid('json')), 200)
      },
    )
}
