import type { Queryable } from '../../db/types.ts'

export interface CampaignRow {
  id: string
  tenant_id: string
  name: string
  status: string
  created: Date
  updated: Date
}

export interface SequenceStepRow {
  id: string
  tenant_id: string
  campaign_id: string
  step_number: number
  subject: string | null
  delay_days: number
  created: Date
  updated: Date
}

const CAMPAIGN_COLUMNS = 'id, tenant_id, name, status, created, updated'
const STEP_COLUMNS = 'id, tenant_id, campaign_id, step_number, subject, delay_days, created, updated'

export async function insertCampaign(q: Queryable, row: { tenantId: string; id: string; name: string }) {
  const rows = await q.query<CampaignRow>(
    `INSERT INTO oltp.campaigns (tenant_id, id, name) VALUES ($1, $2, $3) RETURNING ${CAMPAIGN_COLUMNS}`,
    [row.tenantId, row.id, row.name],
  )
  return rows[0]!
}

export function listCampaigns(q: Queryable, tenantId: string, limit: number, before?: string) {
  return q.query<CampaignRow>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM oltp.campaigns
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3`,
    [tenantId, before ?? null, limit + 1],
  )
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
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ${STEP_COLUMNS}`,
    [row.tenantId, row.id, row.campaignId, row.stepNumber, row.subject, row.delayDays],
  )
  return rows[0]
}

export function listSequenceSteps(q: Queryable, tenantId: string, campaignId: string) {
  return q.query<SequenceStepRow>(
    `SELECT ${STEP_COLUMNS} FROM oltp.sequence_steps WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY step_number`,
    [tenantId, campaignId],
  )
}
