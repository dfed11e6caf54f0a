import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { SCOPES } from '../../scopes.ts'
import { createApiKey, listKeys, revokeKey } from '../../services/api-keys.ts'
import { router } from '../env.ts'
import { commonErrors, IdParam, json, jsonBody, PageQuery, pageSchema, Timestamp, Uuid, security } from '../schemas.ts'

const Scope = z.enum(SCOPES)

const CreateKey = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(Scope).min(1).max(SCOPES.length),
  expires_at: z.iso.datetime({ offset: true }).nullish(),
})

const ApiKey = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    prefix: z.string().openapi({ description: 'The first characters of the key, to tell keys apart' }),
    name: z.string().nullable(),
    scopes: z.array(z.string()),
    created: Timestamp,
    expires_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable().openapi({ description: 'Recorded in batches: may lag by up to 30 s' }),
    revoked: Timestamp.nullable(),
  })
  .openapi('ApiKey')

export function apiKeyRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['api keys'],
        summary: 'Create an API key with the scopes given; the key is in this answer only',
        security,
        request: { body: jsonBody(CreateKey) },
        responses: { 201: json('The key (shown once) and its record', ApiKey.extend({ key: z.string() })), ...commonErrors },
      }),
      async (c) => c.json(await createApiKey(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['api keys'],
        summary: 'List the tenant’s keys, revoked ones included, newest first',
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page of keys', pageSchema(ApiKey)), ...commonErrors },
      }),
      async (c) => c.json(await listKeys(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['api keys'],
        summary: 'Revoke a key: refused from the next request on',
        security,
        request: { params: IdParam },
        responses: { 200: json('The revoked key', ApiKey), ...commonErrors },
      }),
      async (c) => c.json(await revokeKey(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
}
