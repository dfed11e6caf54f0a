import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { BOUNCE_REASONS } from '../../inbound/reasons.ts'
import {
  addSuppression,
  checkSuppression,
  listSuppressions,
  removeSuppression,
  SUPPRESSION_REASONS,
} from '../../services/suppressions.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const Suppression = z
  .object({
    id: Uuid,
    email: z.string().openapi({ description: 'Lowercased' }),
    reason: z.enum(SUPPRESSION_REASONS).openapi({
      description:
        'hard_bounce (the address or domain is dead), complaint, soft_bounces (SOFT_BOUNCE_SUPPRESS_AFTER in a row), unsubscribe (reported by a provider), manual',
    }),
    bounce_reason: z.enum(BOUNCE_REASONS).nullable().openapi({ description: 'Why it bounced, when a bounce added it' }),
    source: z.string().openapi({ description: 'inbound, api, or webhook:<provider>' }),
    source_message_id: Uuid.nullable().openapi({ description: 'The bounce or complaint received (inbound), or the message it was about (webhook)' }),
    note: z.string().nullable(),
    created: Timestamp,
  })
  .openapi('Suppression')

const AddSuppression = z.object({ email: Email, note: z.string().trim().max(500).nullish() })
const EmailQuery = z.object({ email: Email.openapi({ param: { name: 'email', in: 'query' }, example: ex.suppression.email }) })
const EmailParam = z.object({ email: Email.openapi({ param: { name: 'email', in: 'path' }, example: ex.suppression.email }) })

export function suppressionRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['suppressions'],
        operationId: 'listSuppressions',
        summary: 'List suppressed addresses, newest first; ?reason= filters',
        description: 'Scope leads:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery.extend({ reason: z.enum(SUPPRESSION_REASONS).optional() }) },
        responses: { 200: json('A page of suppressions', pageSchema(Suppression), { data: [ex.suppression], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => {
        const { reason, ...page } = c.req.valid('query')
        return c.json(await listSuppressions(deps, c.get('tenantId'), page, reason), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/check',
        tags: ['suppressions'],
        operationId: 'checkSuppression',
        summary: 'Is this address suppressed?',
        description: 'Scope leads:read. Compared without case.',
        security: apiKey,
        request: { query: EmailQuery },
        responses: {
          200: json(
            'Whether the address is suppressed, and why',
            z.object({ email: z.string(), suppressed: z.boolean(), suppression: Suppression.nullable() }),
            { email: ex.suppression.email, suppressed: true, suppression: ex.suppression },
          ),
          ...tenantErrors(422),
        },
      }),
      async (c) => c.json(await checkSuppression(deps, c.get('tenantId'), c.req.valid('query').email), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['suppressions'],
        operationId: 'addSuppression',
        summary: 'Suppress an address by hand',
        description: 'Scope leads:write. 201 when added; 200 with the existing entry (and its first reason) when it was already suppressed.',
        security: apiKey,
        request: { body: jsonBody(AddSuppression, { email: ex.suppression.email, note: 'asked by phone not to be contacted' }) },
        responses: {
          201: json('Added', Suppression, { ...ex.suppression, reason: 'manual', bounce_reason: null, source: 'api', source_message_id: null }),
          200: json('Already suppressed', Suppression, ex.suppression),
          ...tenantErrors(...JSON_BODY),
        },
      }),
      async (c) => {
        const { suppression, created } = await addSuppression(deps, c.get('tenantId'), c.req.valid('json'))
        return created ? c.json(suppression, 201) : c.json(suppression, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{email}',
        tags: ['suppressions'],
        operationId: 'removeSuppression',
        summary: 'Mail an address again',
        description: 'Scope leads:write. Also forgets its soft-bounce streak. A later hard bounce or complaint suppresses it again.',
        security: apiKey,
        request: { params: EmailParam },
        responses: { 204: { description: 'Removed' }, ...tenantErrors(404, 422) },
      }),
      async (c) => {
        await removeSuppression(deps, c.get('tenantId'), c.req.valid('param').email)
        return c.body(null, 204)
      },
    )
}
