import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { newId } from '../../ids.ts'
import {
  campaignExists,
  insertCampaign,
  insertSequenceStep,
  listCampaigns,
  listSequenceSteps,
} from '../../tiers/oltp/campaigns.ts'
import { toPage } from '../../tiers/oltp/page.ts'
import { router } from '../env.ts'
import { conflict, notFound } from '../errors.ts'
import { cursorToId } from '../pagination.ts'
import { commonErrors, IdParam, json, jsonBody, PageQuery, pageOf, Timestamp, Uuid, security } from '../schemas.ts'

const CreateCampaign = z.object({ name: z.string().trim().min(1).max(200) })
const Campaign = z
  .object({ id: Uuid, tenant_id: Uuid, name: z.string(), status: z.string(), created: Timestamp, updated: Timestamp })
  .openapi('Campaign')

const CreateStep = z.object({
  step_number: z.number().int().min(1).max(1000),
  subject: z.string().max(500).nullish(),
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
  const oltp = deps.tiers.oltp
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
      async (c) => {
        const row = await insertCampaign(oltp, { tenantId: c.get('tenantId'), id: newId(), name: c.req.valid('json').name })
        return c.json(row, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['campaigns'],
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page of campaigns, newest first', pageOf(Campaign)), ...commonErrors },
      }),
      async (c) => {
        const { limit, cursor } = c.req.valid('query')
        return c.json(toPage(await listCampaigns(oltp, c.get('tenantId'), limit, cursorToId(cursor)), limit), 200)
      },
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
      async (c) => {
        const tenantId = c.get('tenantId')
        const { id } = c.req.valid('param')
        const body = c.req.valid('json')
        if (!(await campaignExists(oltp, tenantId, id))) throw notFound('campaign')
        const row = await insertSequenceStep(oltp, {
          tenantId,
          id: newId(),
          campaignId: id,
          stepNumber: body.step_number,
          subject: body.subject ?? null,
          delayDays: body.delay_days,
        })
        if (!row) throw conflict('this campaign already has a step with that number', 'step_number')
        return c.json(row, 201)
      },
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
      async (c) => {
        const tenantId = c.get('tenantId')
        const { id } = c.req.valid('param')
        if (!(await campaignExists(oltp, tenantId, id))) throw notFound('campaign')
        return c.json({ data: await listSequenceSteps(oltp, tenantId, id) }, 200)
      },
    )
}
