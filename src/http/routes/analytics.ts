import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { campaignReport, mailboxReport, stepReports } from '../../services/analytics.ts'
import { COUNT_COLUMNS } from '../../tiers/analytics/views.ts'
import { router } from '../env.ts'
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

export function analyticsRoutes(deps: Deps) {
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
      async (c) => c.json(await campaignReport(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
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
      async (c) => c.json(await stepReports(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
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
      async (c) => c.json(await mailboxReport(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('query')), 200),
    )
}
