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
export type Counts = Record<(typeof COUNT_COLUMNS)[number], number>

const SUMS = COUNT_COLUMNS.map((c) => `coalesce(sum(${c}), 0)::text AS ${c}`).join(', ')

export interface DayRange {
  from: string | null
  to: string | null
}

const toCounts = (row: Record<string, string>): Counts =>
  Object.fromEntries(COUNT_COLUMNS.map((c) => [c, Number(row[c] ?? 0)])) as Counts

const SINGLE = {
  campaign: { view: 'analytics.campaign_analytics', key: 'campaign_id' },
  mailbox: { view: 'analytics.mailbox_analytics', key: 'email_account_id' },
} as const

/** One campaign's or one mailbox's counts summed over the range. */
export async function totals(
  q: Queryable,
  of: keyof typeof SINGLE,
  tenantId: string,
  id: string,
  r: DayRange,
): Promise<Counts> {
  const { view, key } = SINGLE[of]
  const [row] = await q.query<Record<string, string>>(
    `SELECT ${SUMS} FROM ${view}
      WHERE tenant_id = $1 AND ${key} = $2 AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)`,
    [tenantId, id, r.from, r.to],
  )
  return toCounts(row!)
}

export async function stepTotals(q: Queryable, tenantId: string, campaignId: string, r: DayRange) {
  const rows = await q.query<Record<string, string> & { sequence_step_id: string }>(
    `SELECT sequence_step_id, ${SUMS} FROM analytics.sequence_step_analytics
      WHERE tenant_id = $1 AND campaign_id = $2 AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)
      GROUP BY sequence_step_id`,
    [tenantId, campaignId, r.from, r.to],
  )
  return new Map(rows.map((row) => [row.sequence_step_id, toCounts(row)]))
}
