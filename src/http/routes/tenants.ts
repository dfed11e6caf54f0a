import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createTenant } from '../../services/tenants.ts'
import { router } from '../env.ts'
import { commonErrors, json, jsonBody, Timestamp, Uuid, security } from '../schemas.ts'

const CreateTenant = z.object({ name: z.string().trim().min(1).max(200) })
const Tenant = z.object({ id: Uuid, name: z.string(), status: z.string(), created: Timestamp })

export function tenantRoutes(deps: Deps) {
  return router().openapi(
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
}
