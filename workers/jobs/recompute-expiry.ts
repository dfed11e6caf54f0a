import { getPolicy, recomputeExpiryBatch } from '../../src/tiers/content/retention.ts'
import type { ContentKind } from '../../src/tiers/content/objects.ts'
import { defineJob } from '../job.ts'

const BATCH = 1_000
const KINDS: ContentKind[] = ['outbound', 'inbound', 'transactional', 'notification']

/** After a policy change: every live body of the tenant gets the expiry the new policy gives it, in batches. */
export const recomputeExpiry = defineJob('content.recompute_expiry', async ({ tenant_id }, { deps }) => {
  const policy = await getPolicy(deps.tiers.content, tenant_id)
  for (const kind of KINDS) {
    for (let after: string | null = ''; after !== null; ) {
      after = await recomputeExpiryBatch(deps.tiers.content, tenant_id, kind, policy.content_ttl_days[kind], after, BATCH)
    }
  }
})
