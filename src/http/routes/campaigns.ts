import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { CAMPAIGN_STATUSES } from '../../services/campaign-status.ts'
import { createCampaign, deleteCampaign, getCampaign, listCampaigns, updateCampaign } from '../../services/campaigns.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, idParam, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'
import { sequenceStepRoutes } from './sequence-steps.ts'

const CampaignName = z.string().trim().min(1).max(200)
const CreateCampaign = z.object({ name: CampaignName })
const UpdateCampaign = z.strictObject({
  name: CampaignName.optional(),
  status: z.enum(CAMPAIGN_STATUSES).optional().openapi({
    description: 'draft → active or archived; active → paused or completed; paused → active, completed or archived; completed → archived. Archived is final.',
  }),
})
const Campaign = z
  .object({ id: Uuid, tenant_id: Uuid, name: z.string(), status: z.string(), created: Timestamp, updated: Timestamp })
  .openapi('Campaign')
const CampaignId = idParam(ex.ID.campaign)

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
        method: 'get',
        path: '/{id}',
        tags: ['campaigns'],
        operationId: 'getCampaign',
        summary: 'A campaign',
        description: 'Scope campaigns:read.',
        security: apiKey,
        request: { params: CampaignId },
        responses: { 200: json('The campaign', Campaign, ex.campaign), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await getCampaign(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}',
        tags: ['campaigns'],
        operationId: 'updateCampaign',
        summary: 'Rename a campaign or change its status',
        description:
          'Scope campaigns:write. A field left out keeps its value. A status the campaign cannot move to from its ' +
          'current one answers 409 naming status and where it can go; it becomes active only with at least one ' +
          'sequence step. Asking for the status it already has changes nothing.',
        security: apiKey,
        request: { params: CampaignId, body: jsonBody(UpdateCampaign, { status: 'active' }) },
        responses: { 200: json('The campaign', Campaign, ex.activeCampaign), ...tenantErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => c.json(await updateCampaign(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['campaigns'],
        operationId: 'deleteCampaign',
        summary: 'Delete a campaign no message names, with its steps',
        description:
          'Scope campaigns:write. A campaign that messages name (directly or through a step) is kept with them (409): ' +
          'archive it instead (PATCH status archived), so its messages and analytics stay whole.',
        security: apiKey,
        request: { params: CampaignId },
        responses: { 204: { description: 'Deleted, with its steps' }, ...tenantErrors(404, 409, 422) },
      }),
      async (c) => {
        await deleteCampaign(deps, c.get('tenantId'), c.req.valid('param').id)
        return c.body(null, 204)
      },
    )
    .route('/', sequenceStepRoutes(deps))
}
