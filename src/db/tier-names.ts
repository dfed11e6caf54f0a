export const TIER_NAMES = ['oltp', 'content', 'analytics', 'queue'] as const
export type TierName = (typeof TIER_NAMES)[number]
