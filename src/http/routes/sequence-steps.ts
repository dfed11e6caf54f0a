import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { addStep, deleteStep, getStep, listSteps, updateStep } from '../../services/campaigns.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, headerText, idParam, json, JSON_BODY, jsonBody, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const StepNumber = z.number().int().min(1).max(1000)
const Subject = headerText(z.string().max(500)).nullish()
const DelayDays = z.number().int().min(0).max(3650)
const CreateStep = z.object({ step_number: StepNumber, subject: Subject, delay_days: DelayDays.default(0) })
const UpdateStep = z.strictObject({ step_number: StepNumber.optional(), subject: Subject, delay_days: DelayDays.optional() })

const CampaignId = idParam(ex.ID.campaign)
const StepParams = CampaignId.extend({ step_id: Uuid.openapi({ param: { name: 'step_id', in: 'path' }, example: ex.ID.step }) })
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

/** A campaign's steps, under /v1/campaigns/{id}/steps. */
export function sequenceStepRoutes(deps: Deps) {
  return router()
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
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/steps/{step_id}',
        tags: ['campaigns'],
        operationId: 'getSequenceStep',
        summary: 'One step of a campaign',
        description: 'Scope campaigns:read. A step of another campaign answers 404, like an unknown one.',
        security: apiKey,
        request: { params: StepParams },
        responses: { 200: json('The step', SequenceStep, ex.step), ...tenantErrors(404, 422) },
      }),
      async (c) => {
        const { id, step_id } = c.req.valid('param')
        return c.json(await getStep(deps, c.get('tenantId'), id, step_id), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}/steps/{step_id}',
        tags: ['campaigns'],
        operationId: 'updateSequenceStep',
        summary: 'Change a step’s number, subject or delay',
        description: 'Scope campaigns:write. A field left out keeps its value; subject null clears it. A number another step of the campaign has answers 409.',
        security: apiKey,
        request: { params: StepParams, body: jsonBody(UpdateStep, { subject: ex.editedStep.subject, delay_days: ex.editedStep.delay_days }) },
        responses: { 200: json('The step', SequenceStep, ex.editedStep), ...tenantErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => {
        const { id, step_id } = c.req.valid('param')
        return c.json(await updateStep(deps, c.get('tenantId'), id, step_id, c.req.valid('json')), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}/steps/{step_id}',
        tags: ['campaigns'],
        operationId: 'deleteSequenceStep',
        summary: 'Delete a step no message names',
        description: 'Scope campaigns:write. A step that messages name is kept with them (409); its campaign can be archived.',
        security: apiKey,
        request: { params: StepParams },
        responses: { 204: { description: 'Deleted' }, ...tenantErrors(404, 409, 422) },
      }),
      async (c) => {
        const { id, step_id } = c.req.valid('param')
        await deleteStep(deps, c.get('tenantId'), id, step_id)
        return c.body(null, 204)
      },
    )
}
