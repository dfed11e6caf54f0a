import { recomputeExpiry } from '../../src/services/retention.ts'
import { defineJob } from '../job.ts'

/** After a policy change: every live body of the tenant gets the expiry the new policy gives it. */
export const recomputeExpiryJob = defineJob('content.recompute_expiry', async ({ tenant_id }, { deps }) => {
  await recomputeExpiry(deps, tenant_id)
})
