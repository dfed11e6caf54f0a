/** Reads of the three seed views, summed over a day range. */
import type { Queryable } from '../../db/types.ts'

export const COUNT_COLUMNS = [
  'sent',
  'delivered',
  'opened',
  'unique_opened',
  'clicked',
  'unique_clicked',
  'replied',
  'unique_replied',
  'auto_replied',
  'bounced',
  'hard_bounced',
  'soft_bounced',
  'unsubscribed',
  'complained',
] as const
type Columns = Record<(typeof COUNT_COLUMNS)[number], number>
export type Counts = Columns & {
  /** Bounces per reason (a BOUNCE_REASONS entry), only the nonzero ones: they add up to bounced. */
  bounce_reasons: Record<string, number>
}

export interface DayRange {
  from: string | null
  to: string | null
}

export const noCounts = (): Counts => ({ ...(Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])) as Columns), bounce_reasons: {} })

type SummedRow = Record<string, string> & { bounce_reasons: Record<string, number> }

const toCounts = (row: SummedRow): Counts => ({
  ...(Object.fromEntries(COUNT_COLUMNS.map((c) => [c, Number(row[c] ?? 0)])) as Columns),
  bounce_reasons: row.bounce_reasons,
})

/**
 * A view's rows for a tenant, `of` = $2 and days within $3..$4, summed per `by`: each count, and
 * each reason's bounces across the days' bounce_reasons objects (nonzero ones only).
 */
const summed = (view: string, of: string, by: string) => `
  WITH days AS (
    SELECT * FROM ${view}
     WHERE tenant_id = $1 AND ${of} = $2 AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)
  ), reasons AS (
    SELECT ${by}, jsonb_object_agg(reason, n) AS bounce_reasons
      FROM (SELECT days.${by}, r.key AS reason, sum(r.value::bigint) AS n
              FROM days, jsonb_each_text(days.bounce_reasons) r
             GROUP BY 1, 2 HAVING sum(r.value::bigint) <> 0) per_reason
     GROUP BY 1
  )
  SELECT ${by}, ${COUNT_COLUMNS.map((c) => `sum(days.${c})::text AS ${c}`).join(', ')},
         coalesce(reasons.bounce_reasons, '{}') AS bounce_reasons
    FROM days LEFT JOIN reasons USING (${by})
   GROUP BY ${by}, reasons.bounce_reasons`

const SINGLE = {
  campaign: summed('analytics.campaign_analytics', 'campaign_id', 'campaign_id'),
  mailbox: summed('analytics.mailbox_analytics', 'email_account_id', 'email_account_id'),
} as const

const STEPS = summed('analytics.sequence_step_analytics', 'campaign_id', 'sequence_step_id')

/** One campaign's or one mailbox's counts summed over the range. */
export async function totals(q: Queryable, of: keyof typeof SINGLE, tenantId: string, id: string, r: DayRange): Promise<Counts> {
  const [row] = await q.query<SummedRow>(SINGLE[of], [tenantId, id, r.from, r.to])
  return row ? toCounts(row) : noCounts()
}

/** Each step of a campaign with rows in the range, its counts summed over the range. */
export async function stepTotals(q: Queryable, tenantId: string, campaignId: string, r: DayRange): Promise<Map<string, Counts>> {
  const rows = await q.query<SummedRow & { sequence_step_id: string }>(STEPS, [tenantId, campaignId, r.from, r.to])
  return new Map(rows.map((row) => [row.sequence_step_id, toCounts(row)]))
}
