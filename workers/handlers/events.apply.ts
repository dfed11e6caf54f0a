import { recordEvents } from '../../src/services/analytics.ts'
import { defineJob } from '../job.ts'

/** Events accepted by POST /v1/events: applied exactly once, whatever the redeliveries. */
export const eventsApply = defineJob('events.apply', async ({ events }, { deps }) => {
  await recordEvents(deps, events)
})
