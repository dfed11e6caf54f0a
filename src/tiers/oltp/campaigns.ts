import type { Queryable } from '../../db/types.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { campaigns, sequenceSteps } from './schema.ts'

export type CampaignRow = typeof campaigns.$inferSelect
export type SequenceStepRow = typeof sequenceSteps.$inferSelect

const CAMPAIGN = selectList(campaigns)
const STEP = selectList(sequenceSteps)

export async function insertCampaign(q: Queryable, row: { tenantId: string; id: string; name: string }) {
  const rows = await q.query<CampaignRow>(`INSERT INTO oltp.campaigns (tenant_id, id, name) VALUES ($1, $2, $3) RETURNING ${CAMPAIGN}`, [
    row.tenantId,
    row.id,
    row.name,
  ])
  return rows[0]!
}

export function listCampaigns(q: Queryable, tenantId: string, page: { limit: number; before?: string }) {
  return keysetList<CampaignRow>(q, { from: 'oltp.campaigns', select: CAMPAIGN, tenantId, ...page })
}

export async function campaignExists(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM oltp.campaigns WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return rows.length > 0
}

/** Returns undefined when the campaign already has a step with this number. */
export async function insertSequenceStep(
  q: Queryable,
  row: { tenantId: string; id: string; campaignId: string; stepNumber: number; subject: string | null; delayDays: number },
): Promise<SequenceStepRow | undefined> {
  const rows = await q.query<SequenceStepRow>(
    `INSERT INTO oltp.sequence_steps (tenant_id, id, campaign_id, step_number, subject, delay_days)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ${STEP}`,
    [row.tenantId, row.id, row.campaignId, row.stepNumber, row.subject, row.delayDays],
  )
  return rows[0]
}

export function listSequenceSteps(q: Queryable, tenantId: string, campaignId: string) {
  return q.query<SequenceStepRow>(`SELECT ${STEP} FROM oltp.sequence_steps WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY step_number`, [
    tenantId,
    campaignId,
  ])
}
