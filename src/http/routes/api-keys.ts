import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { SCOPES } from '../../scopes.ts'
import { createApiKey, listKeys, revokeKey } from '../../services/api-keys.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, idParam, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

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
    expires_at: NullableTimestamp,
    last_used_at: NullableTimestamp.openapi({ description: 'Recorded in batches: may lag by up to 30 s' }),
    revoked: NullableTimestamp,
  })
  .openapi('ApiKey')

export function apiKeyRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['api keys'],
        operationId: 'createApiKey',
        summary: 'Create an API key with the scopes given; the key is in this answer only',
        description: 'Scope admin. Only its sha256 is stored. expires_at must be in the future (422).',
        security: apiKey,
        request: { body: jsonBody(CreateKey, { name: ex.apiKey.name, scopes: ex.apiKey.scopes, expires_at: ex.apiKey.expires_at }) },
        responses: {
          201: json('The key (shown once) and its record', ApiKey.extend({ key: z.string() }), { ...ex.apiKey, key: 'edp_79Cf17ZICNSWHkIp5pixDhGyh7m_cTO0xqKZ6sggpPU' }),
          ...tenantErrors(...JSON_BODY),
        },
      }),
      async (c) => c.json(await createApiKey(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['api keys'],
        operationId: 'listApiKeys',
        summary: 'List the tenant’s keys, revoked ones included, newest first',
        description: 'Scope admin. Keys show their prefix, never the key.',
        security: apiKey,
        request: { query: PageQuery },
        responses: { 200: json('A page of keys', pageSchema(ApiKey), { data: [ex.apiKey], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => c.json(await listKeys(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['api keys'],
        operationId: 'revokeApiKey',
        summary: 'Revoke a key: refused from the next request on',
        description: 'Scope admin. Every API process refuses it at once (keys are looked up on each request).',
        security: apiKey,
        request: { params: idParam(ex.ID.apiKey) },
        responses: { 200: json('The revoked key', ApiKey, { ...ex.apiKey, revoked: '2026-03-04T15:02:11.906Z' }), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await revokeKey(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
}
