/** Campaigns and their sequence steps. */
import type { Deps } from '../deps.ts'
import { conflict, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { campaignExists, insertCampaign, insertSequenceStep, listCampaigns as listRows, listSequenceSteps } from '../tiers/oltp/campaigns.ts'

export const createCampaign = (deps: Deps, tenantId: string, name: string) => insertCampaign(deps.tiers.oltp, { tenantId, id: newId(), name })

export async function listCampaigns(deps: Deps, tenantId: string, page: PageRequest) {
  return paged(page, (keyset) => listRows(deps.tiers.oltp, tenantId, keyset))
}

export async function addStep(
  deps: Deps,
  tenantId: string,
  campaignId: string,
  s: { step_number: number; subject?: string | null; delay_days: number },
) {
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  const row = await insertSequenceStep(deps.tiers.oltp, {
    tenantId,
    id: newId(),
    campaignId,
    stepNumber: s.step_number,
    subject: s.subject ?? null,
    delayDays: s.delay_days,
  })
  if (!row) throw conflict('this campaign already has a step with that number', 'step_number')
  return row
}

export async function listSteps(deps: Deps, tenantId: string, campaignId: string) {
  if (!(await campaignExists(deps.tiers.oltp, tenantId, campaignId))) throw notFound('campaign')
  return listSequenceSteps(deps.tiers.oltp, tenantId, campaignId)
}
