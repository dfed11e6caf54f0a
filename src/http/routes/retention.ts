import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { getPolicy, setPolicy } from '../../services/retention.ts'
import { retentionPolicySchema } from '../../tiers/content/retention.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, json, JSON_BODY, jsonBody, tenantErrors } from '../schemas.ts'

// Rebuilt with the OpenAPI-extended z: a schema made before @hono/zod-openapi was first imported
// has no .openapi() (zod 4 gives methods to instances as they are made), and under Deno the
// tiers' modules can be evaluated first (bin/api.ts checks the master key before it builds the app).
const Policy = z.object(retentionPolicySchema.shape).openapi('RetentionPolicy')

export function retentionRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['content'],
        operationId: 'getRetentionPolicy',
        summary: 'Your retention policy (the defaults until you set one); null keeps forever',
        description: 'Scope admin. Days per kind of body, for attachment bytes, and before a body moves to the warm archive.',
        security: apiKey,
        responses: { 200: json('The policy', Policy, ex.retentionPolicy), ...tenantErrors() },
      }),
      async (c) => c.json(await getPolicy(deps, c.get('tenantId')), 200),
    )
    .openapi(
      createRoute({
        method: 'put',
        path: '/',
        tags: ['content'],
        operationId: 'replaceRetentionPolicy',
        summary: 'Replace the retention policy; existing content gets the new expiry shortly after',
        description: 'Scope admin. A job recomputes the expiry of stored bodies in batches; notifications keep the expiry they were written with.',
        security: apiKey,
        request: { body: jsonBody(Policy, ex.stricterPolicy) },
        responses: { 200: json('The policy now in force', Policy, ex.stricterPolicy), ...tenantErrors(...JSON_BODY) },
      }),
      async (c) => c.json(await setPolicy(deps, c.get('tenantId'), c.req.valid('json')), 200),
    )
}
