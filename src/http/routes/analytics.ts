import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { report, viewsAsOf } from '../../services/analytics.ts'
import { campaignExists, listSequenceSteps } from '../../tiers/oltp/campaigns.ts'
import { emailAccountExists } from '../../tiers/oltp/email-accounts.ts'
import { COUNT_COLUMNS, stepTotals, totals, type Counts, type DayRange } from '../../tiers/analytics/views.ts'
import { router } from '../env.ts'
import { ApiError, notFound } from '../errors.ts'
import { commonErrors, IdParam, json, security } from '../schemas.ts'

const Day = z.iso.date()
const RangeQuery = z.object({ from: Day.optional(), to: Day.optional() })

const Report = z
  .object({
    ...Object.fromEntries(COUNT_COLUMNS.map((c) => [c, z.number().int()])),
    open_rate: z.number().nullable(),
    click_rate: z.number().nullable(),
    reply_rate: z.number().nullable(),
    bounce_rate: z.number().nullable(),
    as_of: z.string().nullable(),
    freshness_seconds: z.number().nullable(),
  })
  .openapi('AnalyticsReport')

function range(q: z.infer<typeof RangeQuery>): DayRange {
  if (q.from && q.to && q.from > q.to) {
    throw new ApiError('validation_failed', 'from is after to', [{ field: 'from', message: 'must not be after to' }])
  }
  return { from: q.from ?? null, to: q.to ?? null }
}

const zero = () => Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])) as Counts

export function analyticsRoutes(deps: Deps) {
  const { oltp, analytics } = deps.tiers
  return router()
    .openapi(
      createRoute({
        method: 'get',
        path: '/campaigns/{id}',
        tags: ['analytics'],
        summary: 'A campaign’s counts and rates over an optional day range (UTC days)',
        security,
        request: { params: IdParam, query: RangeQuery },
        responses: { 200: json('The report', Report), ...commonErrors },
      }),
      async (c) => {
        const tenantId = c.get('tenantId')
        const { id } = c.req.valid('param')
        const r = range(c.req.valid('query'))
        if (!(await campaignExists(oltp, tenantId, id))) throw notFound('campaign')
        const asOf = await viewsAsOf(deps.tiers)
        return c.json({ campaign_id: id, ...report(await totals(analytics, 'campaign', tenantId, id, r), asOf) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/campaigns/{id}/steps',
        tags: ['analytics'],
        summary: 'Each sequence step’s counts and rates',
        security,
        request: { params: IdParam, query: RangeQuery },
        responses: {
          200: json('One report per step, in step order', z.object({ data: z.array(Report), as_of: z.string().nullable() })),
          ...commonErrors,
        },
      }),
      async (c) => {
        const tenantId = c.get('tenantId')
        const { id } = c.req.valid('param')
        const r = range(c.req.valid('query'))
        if (!(await campaignExists(oltp, tenantId, id))) throw notFound('campaign')
        const asOf = await viewsAsOf(deps.tiers)
        const [steps, totals] = await Promise.all([listSequenceSteps(oltp, tenantId, id), stepTotals(analytics, tenantId, id, r)])
        const data = steps.map((s) => ({
          sequence_step_id: s.id,
          step_number: s.step_number,
          ...report(totals.get(s.id) ?? zero(), asOf),
        }))
        return c.json({ data, as_of: asOf?.toISOString() ?? null }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/email-accounts/{id}',
        tags: ['analytics'],
        summary: 'A mailbox’s counts and rates',
        security,
        request: { params: IdParam, query: RangeQuery },
        responses: { 200: json('The report', Report), ...commonErrors },
      }),
      async (c) => {
        const tenantId = c.get('tenantId')
        const { id } = c.req.valid('param')
        const r = range(c.req.valid('query'))
        if (!(await emailAccountExists(oltp, tenantId, id))) throw notFound('email account')
        const asOf = await viewsAsOf(deps.tiers)
        return c.json({ email_account_id: id, ...report(await totals(analytics, 'mailbox', tenantId, id, r), asOf) }, 200)
      },
    )
}
