import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createLead, deleteLead, getLead, LEAD_STATUSES, listLeads, updateLead } from '../../services/leads.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, headerText, idParam, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'
import { leadImportRoutes } from './lead-import.ts'

/** A lead's names make the display name of the To header. */
const Name = headerText(z.string().trim().min(1).max(100)).nullish()
const CreateLead = z.object({ email: Email, first_name: Name, last_name: Name })
const UpdateLead = z.strictObject({
  email: Email.optional(),
  first_name: Name.openapi({ description: 'null clears it' }),
  last_name: Name.openapi({ description: 'null clears it' }),
  status: z.enum(LEAD_STATUSES).optional(),
})
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
const LeadId = idParam(ex.ID.lead)

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
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['leads'],
        operationId: 'getLead',
        summary: 'A lead',
        description: 'Scope leads:read.',
        security: apiKey,
        request: { params: LeadId },
        responses: { 200: json('The lead', Lead, ex.lead), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await getLead(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}',
        tags: ['leads'],
        operationId: 'updateLead',
        summary: 'Change a lead’s address, names or status',
        description:
          'Scope leads:write. A field left out keeps its value; null clears a name. A new address must not be another ' +
          'lead’s (409); messages already stored keep the address they were sent to. Status active, paused or archived.',
        security: apiKey,
        request: { params: LeadId, body: jsonBody(UpdateLead, { last_name: ex.editedLead.last_name }) },
        responses: { 200: json('The lead', Lead, ex.editedLead), ...tenantErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => c.json(await updateLead(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['leads'],
        operationId: 'deleteLead',
        summary: 'Delete a lead no message names',
        description:
          'Scope leads:write. A lead that messages name is kept with its history (409): archive it instead ' +
          '(PATCH status archived). A suppression of the address is separate and stays.',
        security: apiKey,
        request: { params: LeadId },
        responses: { 204: { description: 'Deleted' }, ...tenantErrors(404, 409, 422) },
      }),
      async (c) => {
        await deleteLead(deps, c.get('tenantId'), c.req.valid('param').id)
        return c.body(null, 204)
      },
    )
    .route('/', leadImportRoutes(deps))
}
