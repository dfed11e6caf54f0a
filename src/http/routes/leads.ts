import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createLead, listLeads } from '../../services/leads.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, headerText, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

/** A lead's names make the display name of the To header. */
const Name = headerText(z.string().trim().min(1).max(100)).nullish()
const CreateLead = z.object({ email: Email, first_name: Name, last_name: Name })
const Lead = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    email: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    status: z.string(),
    created: Timestamp,
    updated: Timestamp,
  })
  .openapi('Lead')

export function leadRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['leads'],
        operationId: 'createLead',
        summary: 'Add a lead',
        description: 'Scope leads:write. An address is unique per tenant, compared case-insensitively (409).',
        security: apiKey,
        request: { body: jsonBody(CreateLead, { email: ex.lead.email, first_name: ex.lead.first_name, last_name: ex.lead.last_name }) },
        responses: { 201: json('The lead', Lead, ex.lead), ...tenantErrors(...JSON_BODY, 409) },
      }),
      async (c) => c.json(await createLead(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['leads'],
        operationId: 'listLeads',
        summary: 'List leads, newest first; ?email= finds one by address',
        description: 'Scope leads:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery.extend({ email: Email.optional() }) },
        responses: { 200: json('A page of leads', pageSchema(Lead), { data: [ex.lead], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => {
        const { email, ...page } = c.req.valid('query')
        return c.json(await listLeads(deps, c.get('tenantId'), page, email), 200)
      },
    )
}
