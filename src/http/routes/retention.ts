import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { getPolicy, setPolicy } from '../../services/retention.ts'
import { retentionPolicySchema } from '../../tiers/content/retention.ts'
import { router } from '../env.ts'
import { commonErrors, json, jsonBody, security } from '../schemas.ts'

const Policy = retentionPolicySchema.openapi('RetentionPolicy')

export function retentionRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['content'],
        summary: 'Your retention policy (the defaults until you set one); null keeps forever',
        security,
        responses: { 200: json('The policy', Policy), ...commonErrors },
      }),
      async (c) => c.json(await getPolicy(deps, c.get('tenantId')), 200),
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/',
        tags: ['content'],
        summary: 'Replace the retention policy; existing content gets the new expiry shortly after',
        security,
        request: { body: jsonBody(Policy) },
        responses: { 200: json('The policy now in force', Policy), ...commonErrors },
      }),
      async (c) => c.json(await setPolicy(deps, c.get('tenantId'), c.req.valid('json')), 200),
    )
}
