import { recordMessageCreated } from '../../src/services/analytics.ts'
import { defineJob } from '../job.ts'

/** A stored message becomes its analytics facts (sent, or what it answers), exactly once. */
export const messageCreated = defineJob('message.created', async (payload, { deps }) => {
  await recordMessageCreated(deps, payload)
})
