/**
 * Campaigns and their sequence steps. What messages name is never deleted: a campaign, or a step,
 * that messages point at answers 409 and is archived instead (src/services/campaign-status.ts),
 * so refs keep their foreign keys and analytics keep their counts under the same ids.
 */
import { readerOf } from '../db/tiers.ts'
import type { Deps } from '../deps.ts'
import { audit, audited, changed } from './audit.ts'
import { conflict, conflictWith, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import {
  campaignExists,
  countSequenceSteps,
  deleteCampaign as deleteCampaignRow,
  deleteSequenceStep,
  getCampaign as getCampaignRow,
  getSequenceStep,
  insertCampaign,
  insertSequenceStep,
  listCampaigns as listRows,
  listSequenceSteps,
  updateCampaign as updateCampaignRow,
  updateSequenceStep,
} from '../tiers/oltp/campaigns.ts'
import { checkTransition, type CampaignStatus } from './campaign-status.ts'

export const createCampaign = (deps: Deps, tenantId: string, name: string) =>
  audited(
    deps.tiers.oltp,
    (tx) => insertCampaign(tx, { tenantId, id: newId(), name }),
    (row) => ({ tenantId, action: 'campaign.create', targetType: 'campaign', targetId: row.id }),
  )

export async function listCampaigns(deps: Deps, tenantId: string, page: PageRequest) {
  return paged(page, (keyset) => listRows(readerOf(deps.tiers, 'oltp'), tenantId, keyset))
}

export async function getCampaign(deps: Deps, tenantId: string, id: string) {
  const row = await getCampaignRow(deps.tiers.oltp, tenantId, id)
  if (!row) throw notFound('campaign')
  return row
}

/**
 * Renames it and/or moves it along its status machine. The row is locked while the change is
 * checked, so two concurrent changes cannot both pass the check against the same old status.
 */
export async function updateCampaign(deps: Deps, tenantId: string, id: string, patch: { name?: string; status?: CampaignStatus }) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const current = await getCampaignRow(tx, tenantId, id, true)
    if (!current) throw notFound('campaign')
    const moves = patch.status !== undefined && patch.status !== current.status
    if (moves) {
      checkTransition(current.status, patch.status!)
      if (patch.status === 'active' && (await countSequenceSteps(tx, tenantId, id)) === 0) {
        throw conflictWith('a campaign needs a sequence step before it becomes active', 'status', 'add a step first')
      }
    }
    if (!moves && patch.name === undefined) return current
    const row = (await updateCampaignRow(tx, tenantId, id, { name: patch.name, status: moves ? patch.status : undefined }))!
    await audit(tx, { tenantId, action: 'campaign.update', targetType: 'campaign', targetId: id, detail: changed(patch) })
    return row
  })
}

export async function deleteCampaign(deps: Deps, tenantId: string, id: string): Promise<void> {
  await deps.tiers.oltp.transaction(async (tx) => {
    const result = await deleteCampaignRow(tx, tenantId, id)
    if (result === 'missing') throw notFound('campaign')
    if (result === 'in_use') {
      throw conflictWith('messages name this campaign or its steps; archive it instead (status archived)', 'id', 'has messages')
    }
    await audit(tx, { tenantId, action: 'campaign.delete', targetType: 'campaign', targetId: id })
  })
}

export async function addStep(
  deps: Deps,
  tenantId: string,
  campaignId: string,
  s: { step_number: number; subject?: string | null; delay_days: number },
) {
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await insertSequenceStep(tx, {
      tenantId,
      id: newId(),
      campaignId,
      stepNumber: s.step_number,
      subject: s.subject ?? null,
      delayDays: s.delay_days,
    })
    if (!row) throw conflict('this campaign already has a step with that number', 'step_number')
    await audit(tx, { tenantId, action: 'sequence_step.create', targetType: 'sequence_step', targetId: row.id, detail: { campaign_id: campaignId } })
    return row
  })
}

export async function listSteps(deps: Deps, tenantId: string, campaignId: string) {
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  return listSequenceSteps(deps.tiers.oltp, tenantId, campaignId)
}

export async function getStep(deps: Deps, tenantId: string, campaignId: string, stepId: string) {
  const row = await getSequenceStep(deps.tiers.oltp, tenantId, campaignId, stepId)
  if (!row) throw notFound('sequence step')
  return row
}

export async function updateStep(
  deps: Deps,
  tenantId: string,
  campaignId: string,
  stepId: string,
  s: { step_number?: number; subject?: string | null; delay_days?: number },
) {
  if (s.step_number === undefined && s.subject === undefined && s.delay_days === undefined) return getStep(deps, tenantId, campaignId, stepId)
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await updateSequenceStep(tx, tenantId, campaignId, stepId, {
      stepNumber: s.step_number,
      subject: s.subject,
      delayDays: s.delay_days,
    })
    if (row === 'conflict') throw conflict('this campaign already has a step with that number', 'step_number')
    if (!row) throw notFound('sequence step')
    await audit(tx, { tenantId, action: 'sequence_step.update', targetType: 'sequence_step', targetId: stepId, detail: changed(s) })
    return row
  })
}

export async function deleteStep(deps: Deps, tenantId: string, campaignId: string, stepId: string): Promise<void> {
  await deps.tiers.oltp.transaction(async (tx) => {
    const result = await deleteSequenceStep(tx, tenantId, campaignId, stepId)
    if (result === 'missing') throw notFound('sequence step')
    if (result === 'in_use') throw conflictWith('messages name this step; it stays with them', 'id', 'has messages')
    await audit(tx, { tenantId, action: 'sequence_step.delete', targetType: 'sequence_step', targetId: stepId, detail: { campaign_id: campaignId } })
  })
}
