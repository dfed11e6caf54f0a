import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { addStep, createCampaign, listCampaigns, listSteps } from '../../services/campaigns.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, headerText, idParam, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const CreateCampaign = z.object({ name: z.string().trim().min(1).max(200) })
const Campaign = z
  .object({ id: Uuid, tenant_id: Uuid, name: z.string(), status: z.string(), created: Timestamp, updated: Timestamp })
  .openapi('Campaign')

const CreateStep = z.object({
  step_number: z.number().int().min(1).max(1000),
  subject: headerText(z.string().max(500)).nullish(),
  delay_days: z.number().int().min(0).max(3650).default(0),
})
const CampaignId = idParam(ex.ID.campaign)
const SequenceStep = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    campaign_id: Uuid,
    step_number: z.number().int(),
    subject: z.string().nullable(),
    delay_days: z.number().int(),
    created: Timestamp,
    updated: Timestamp,
  })
  .openapi('SequenceStep')

export function campaignRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['campaigns'],
        operationId: 'createCampaign',
        summary: 'Create a campaign (status draft)',
        description: 'Scope campaigns:write. Names need not be unique.',
        security: apiKey,
        request: { body: jsonBody(CreateCampaign, { name: ex.campaign.name }) },
        responses: { 201: json('The campaign', Campaign, ex.campaign), ...tenantErrors(...JSON_BODY) },
      }),
      async (c) => c.json(await createCampaign(deps, c.get('tenantId'), c.req.valid('json').name), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['campaigns'],
        operationId: 'listCampaigns',
        summary: 'List campaigns, newest first',
        description: 'Scope campaigns:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery },
        responses: { 200: json('A page of campaigns, newest first', pageSchema(Campaign), { data: [ex.campaign], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => c.json(await listCampaigns(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{id}/steps',
        tags: ['campaigns'],
        operationId: 'createSequenceStep',
        summary: 'Add a sequence step to a campaign',
        description: 'Scope campaigns:write. A step number is unique within its campaign (409).',
        security: apiKey,
        request: { params: CampaignId, body: jsonBody(CreateStep, { step_number: 1, subject: ex.step.subject, delay_days: 0 }) },
        responses: { 201: json('The step', SequenceStep, ex.step), ...tenantErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => c.json(await addStep(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/steps',
        tags: ['campaigns'],
        operationId: 'listSequenceSteps',
        summary: 'A campaign’s sequence steps, in step order',
        description: 'Scope campaigns:read. Every step at once (not paginated).',
        security: apiKey,
        request: { params: CampaignId },
        responses: { 200: json('The steps in order', z.object({ data: z.array(SequenceStep) }), { data: [ex.step] }), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json({ data: await listSteps(deps, c.get('tenantId'), c.req.valid('param').id) }, 200),
    )
}
