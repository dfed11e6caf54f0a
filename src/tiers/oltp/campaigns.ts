import type { Queryable } from '../../db/types.ts'
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.ts'
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

/** With `lock`, the row stays locked until the caller's transaction ends (a status change reads, checks, then writes). */
export async function getCampaign(q: Queryable, tenantId: string, id: string, lock = false): Promise<CampaignRow | undefined> {
  const rows = await q.query<CampaignRow>(`SELECT ${CAMPAIGN} FROM oltp.campaigns WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [
    tenantId,
    id,
  ])
  return rows[0]
}

/** A field left undefined keeps its value. */
export async function updateCampaign(q: Queryable, tenantId: string, id: string, patch: { name?: string; status?: string }) {
  const rows = await q.query<CampaignRow>(
    `UPDATE oltp.campaigns SET name = COALESCE($3::varchar, name), status = COALESCE($4::varchar, status), updated = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${CAMPAIGN}`,
    [tenantId, id, patch.name ?? null, patch.status ?? null],
  )
  return rows[0]
}

/**
 * Deletes the campaign and its steps (cascade). `in_use` when messages name the campaign or one of
 * its steps: their foreign keys keep both.
 */
export async function deleteCampaign(q: Queryable, tenantId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
  try {
    const rows = await q.query(`DELETE FROM oltp.campaigns WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id])
    return rows.length ? 'deleted' : 'missing'
  } catch (e) {
    if (isForeignKeyViolation(e)) return 'in_use'
    throw e
  }
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

export async function countSequenceSteps(q: Queryable, tenantId: string, campaignId: string): Promise<number> {
  const rows = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM oltp.sequence_steps WHERE tenant_id = $1 AND campaign_id = $2`, [
    tenantId,
    campaignId,
  ])
  return rows[0]!.n
}

/** A step of that campaign; another campaign's step is as missing as an unknown id. */
export async function getSequenceStep(q: Queryable, tenantId: string, campaignId: string, id: string): Promise<SequenceStepRow | undefined> {
  const rows = await q.query<SequenceStepRow>(`SELECT ${STEP} FROM oltp.sequence_steps WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3`, [
    tenantId,
    campaignId,
    id,
  ])
  return rows[0]
}

/** A field left undefined keeps its value; `conflict` when the campaign has another step with that number. */
export async function updateSequenceStep(
  q: Queryable,
  tenantId: string,
  campaignId: string,
  id: string,
  patch: { stepNumber?: number; subject?: string | null; delayDays?: number },
): Promise<SequenceStepRow | undefined | 'conflict'> {
  try {
    const rows = await q.query<SequenceStepRow>(
      `UPDATE oltp.sequence_steps
          SET step_number = COALESCE($4::int, step_number),
              subject = CASE WHEN $5::boolean THEN $6::varchar ELSE subject END,
              delay_days = COALESCE($7::int, delay_days), updated = now()
        WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 RETURNING ${STEP}`,
      [tenantId, campaignId, id, patch.stepNumber ?? null, patch.subject !== undefined, patch.subject ?? null, patch.delayDays ?? null],
    )
    return rows[0]
  } catch (e) {
    if (isUniqueViolation(e)) return 'conflict'
    throw e
  }
}

/** `in_use` when messages name the step: their foreign key keeps it. */
export async function deleteSequenceStep(q: Queryable, tenantId: string, campaignId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
  try {
    const rows = await q.query(`DELETE FROM oltp.sequence_steps WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 RETURNING id`, [
      tenantId,
      campaignId,
      id,
    ])
    return rows.length ? 'deleted' : 'missing'
  } catch (e) {
    if (isForeignKeyViolation(e)) return 'in_use'
    throw e
  }
}
