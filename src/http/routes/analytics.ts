import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { campaignReport, mailboxReport, stepReports } from '../../services/analytics.ts'
import { BOUNCE_REASONS } from '../../services/inbound.ts'
import { COUNT_COLUMNS } from '../../tiers/analytics/views.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, idParam, json, tenantErrors, Uuid } from '../schemas.ts'

const Day = z.iso.date()
const RangeQuery = z.object({
  from: Day.optional().openapi({ description: 'First UTC day counted (inclusive)', example: '2026-03-01' }),
  to: Day.optional().openapi({ description: 'Last UTC day counted (inclusive)', example: '2026-03-31' }),
})

const BounceReasons = z.partialRecord(z.enum(BOUNCE_REASONS), z.number().int()).openapi({
  description:
    'Bounces per reason over the range, only the reasons with any: they add up to bounced. A bounce whose report named no reason counts as undetermined.',
  example: ex.bounceReasons,
})

const Report = z
  .object({
    ...Object.fromEntries(COUNT_COLUMNS.map((c) => [c, z.number().int()])),
    bounce_reasons: BounceReasons,
    open_rate: z.number().nullable(),
    click_rate: z.number().nullable(),
    reply_rate: z.number().nullable(),
    bounce_rate: z.number().nullable(),
    as_of: z.string().nullable(),
    freshness_seconds: z.number().nullable(),
  })
  .openapi('AnalyticsReport')

const CampaignReport = Report.extend({ campaign_id: Uuid }).openapi('CampaignReport')
const StepReport = Report.extend({ sequence_step_id: Uuid, step_number: z.number().int() }).openapi('StepReport')
const EmailAccountReport = Report.extend({ email_account_id: Uuid }).openapi('EmailAccountReport')
const counted = 'Scope analytics:read. Counts from the analytics tier, as of as_of (seconds behind the events); rates are over messages sent.'

export function analyticsRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/campaigns/{id}',
        tags: ['analytics'],
        operationId: 'getCampaignAnalytics',
        summary: 'A campaign’s counts and rates over an optional day range (UTC days)',
        description: counted,
        security: apiKey,
        request: { params: idParam(ex.ID.campaign), query: RangeQuery },
        responses: { 200: json('The report', CampaignReport, ex.campaignReport), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await campaignReport(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/campaigns/{id}/steps',
        tags: ['analytics'],
        operationId: 'getCampaignStepAnalytics',
        summary: 'Each sequence step’s counts and rates',
        description: `${counted} Steps without events count zero.`,
        security: apiKey,
        request: { params: idParam(ex.ID.campaign), query: RangeQuery },
        responses: {
          200: json('One report per step, in step order', z.object({ data: z.array(StepReport), as_of: z.string().nullable() }), ex.stepReports),
          ...tenantErrors(404, 422),
        },
      }),
      async (c) => c.json(await stepReports(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/email-accounts/{id}',
        tags: ['analytics'],
        operationId: 'getEmailAccountAnalytics',
        summary: 'A mailbox’s counts and rates',
        description: counted,
        security: apiKey,
        request: { params: idParam(ex.ID.emailAccount), query: RangeQuery },
        responses: { 200: json('The report', EmailAccountReport, ex.mailboxReport), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await mailboxReport(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
    )
}
