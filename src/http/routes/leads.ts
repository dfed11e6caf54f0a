import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createLead, listLeads } from '../../services/leads.ts'
import { router } from '../env.ts'
import { commonErrors, Email, headerText, json, jsonBody, PageQuery, pageSchema, Timestamp, Uuid, security } from '../schemas.ts'

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
        security,
        request: { body: jsonBody(CreateLead) },
        responses: { 201: json('The lead', Lead), ...commonErrors },
      }),
      async (c) => c.json(await createLead(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['leads'],
        summary: 'List leads, newest first; ?email= finds one by address',
        security,
        request: { query: PageQuery.extend({ email: Email.optional() }) },
        responses: { 200: json('A page of leads', pageSchema(Lead)), ...commonErrors },
      }),
      async (c) => {
        const { email, ...page } = c.req.valid('query')
        return c.json(await listLeads(deps, c.get('tenantId'), page, email), 200)
      },
    )
}
