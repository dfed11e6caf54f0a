import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { addStep, createCampaign, listCampaigns, listSteps } from '../../services/campaigns.ts'
import { router } from '../env.ts'
import { commonErrors, headerText, IdParam, json, jsonBody, PageQuery, pageSchema, Timestamp, Uuid, security } from '../schemas.ts'

const CreateCampaign = z.object({ name: z.string().trim().min(1).max(200) })
const Campaign = z
  .object({ id: Uuid, tenant_id: Uuid, name: z.string(), status: z.string(), created: Timestamp, updated: Timestamp })
  .openapi('Campaign')

const CreateStep = z.object({
  step_number: z.number().int().min(1).max(1000),
  subject: headerText(z.string().max(500)).nullish(),
  delay_days: z.number().int().min(0).max(3650).default(0),
})
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
        security,
        request: { body: jsonBody(CreateCampaign) },
        responses: { 201: json('The campaign', Campaign), ...commonErrors },
      }),
      async (c) => c.json(await createCampaign(deps, c.get('tenantId'), c.req.valid('json').name), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['campaigns'],
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page of campaigns, newest first', pageSchema(Campaign)), ...commonErrors },
      }),
      async (c) => c.json(await listCampaigns(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{id}/steps',
        tags: ['campaigns'],
        summary: 'Add a sequence step to a campaign',
        security,
        request: { params: IdParam, body: jsonBody(CreateStep) },
        responses: { 201: json('The step', SequenceStep), ...commonErrors },
      }),
      async (c) => c.json(await addStep(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/steps',
        tags: ['campaigns'],
        security,
        request: { params: IdParam },
        responses: { 200: json('The steps in order', z.object({ data: z.array(SequenceStep) })), ...commonErrors },
      }),
      async (c) => c.json({ data: await listSteps(deps, c.get('tenantId'), c.req.valid('param').id) }, 200),
    )
}
