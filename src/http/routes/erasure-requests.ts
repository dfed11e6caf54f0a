import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { getPersonErasure, listErasures, requestPersonErasure } from '../../services/erasure/requests.ts'
import { apiKeyActor } from '../../services/audit.ts'
import { ERASURE_STATUSES } from '../../tiers/oltp/schema.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, idParam, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

/** Exactly one of the two: who the person is. */
const ErasePerson = z
  .object({
    email: Email.optional().openapi({ description: 'The address to erase, compared without case' }),
    lead_id: Uuid.optional().openapi({ description: 'Or the lead whose address it is' }),
  })
  .superRefine((b, ctx) => {
    if ((b.email === undefined) === (b.lead_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.email === undefined ? 'email' : 'lead_id'], message: 'give email or lead_id, not both' })
    }
  })

const CountMap = z.record(z.string(), z.number().int())
export const TierCountsSchema = z
  .object({ oltp: CountMap, content: CountMap, analytics: CountMap, queue: CountMap })
  .openapi('ErasureCounts', { description: 'What was erased so far, per tier and per kind of row; final once status is completed' })

const ErasureRequest = z
  .object({
    id: Uuid,
    status: z.enum(ERASURE_STATUSES),
    requested_at: Timestamp,
    completed_at: NullableTimestamp,
    email_sha256: z.string().nullable().openapi({ description: 'sha256 of the lowercased address, hex: all the request keeps of it' }),
    lead_id: Uuid.nullable().openapi({ description: 'The person’s lead when there was one (deleted by the erasure)' }),
    tiers: TierCountsSchema,
  })
  .openapi('ErasureRequest')

const POLICY =
  'Refs to or from the address keep ids, dates, links and status (aggregates and threads stay whole) with the address and subject ' +
  'replaced by "[erased]"; their bodies, headers and attachments, and those of any message whose body or headers name the address, ' +
  'are deleted (reads answer 410 with content_state erased); the lead is deleted; a suppression keeps working on the hash of the address; ' +
  'analytics keep every count without the address; queued, archived and dead jobs and job logs lose it. See the README, Privacy.'

export function erasureRequestRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['privacy'],
        operationId: 'createErasureRequest',
        summary: 'Erase a person from every tier, by address or lead',
        description: `Scope admin. Accepted at once (202) and run by a job; poll the request. An unfinished request for the same address is answered instead of a second one. The tenant's own mailbox addresses are refused (422). ${POLICY}`,
        security: apiKey,
        request: { body: jsonBody(ErasePerson, { email: ex.lead.email }) },
        responses: { 202: json('The request, pending', ErasureRequest, ex.erasureRequest), ...tenantErrors(...JSON_BODY, 404) },
      }),
      async (c) => {
        const body = c.req.valid('json')
        const who = body.lead_id !== undefined ? { lead_id: body.lead_id } : { email: body.email! }
        return c.json(await requestPersonErasure(deps, c.get('tenantId'), who, apiKeyActor(c.get('apiKey').id)), 202)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['privacy'],
        operationId: 'listErasureRequests',
        summary: 'List erasure requests, newest first',
        description: 'Scope admin. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery },
        responses: { 200: json('A page of requests', pageSchema(ErasureRequest), { data: [ex.erasureCompleted], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => c.json(await listErasures(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['privacy'],
        operationId: 'getErasureRequest',
        summary: 'An erasure request: its status and what it erased in each tier',
        description: 'Scope admin.',
        security: apiKey,
        request: { params: idParam(ex.erasureRequest.id) },
        responses: { 200: json('The request', ErasureRequest, ex.erasureCompleted), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await getPersonErasure(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
}
