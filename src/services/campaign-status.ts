/**
 * A campaign's life, as a cold-email sender runs one: built as a draft, active while its sequence
 * sends, paused and resumed, completed when it has run its course, archived when put away. The
 * data here only records the state; the sender reads it. Archived is final, and a campaign is only
 * archived once it is not sending (pause or complete it first), so a click cannot hide a campaign
 * that is still mailing people. A campaign with messages is archived rather than deleted: its
 * messages name it, and its analytics keep counting under its id.
 */
import { conflictWith } from '../errors.ts'

export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'completed', 'archived'] as const
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number]

const NEXT: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'completed'],
  paused: ['active', 'completed', 'archived'],
  completed: ['archived'],
  archived: [],
}

/** Where a campaign may go from `from` (a status written before this vocabulary goes nowhere). */
export const nextStatuses = (from: string): readonly CampaignStatus[] => NEXT[from as CampaignStatus] ?? []

/** Throws 409 naming `status` unless the campaign may move from `from` to `to`; staying put is allowed. */
export function checkTransition(from: string, to: CampaignStatus): void {
  if (from === to || nextStatuses(from).includes(to)) return
  const allowed = nextStatuses(from)
  throw conflictWith(
    `a ${from} campaign cannot become ${to}`,
    'status',
    allowed.length ? `from ${from} it can become ${allowed.join(', ')}` : `${from} is final`,
  )
}
