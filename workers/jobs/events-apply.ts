import { defineJob } from '../job.ts'
import { recordEvents } from './record-events.ts'

/** Events accepted by POST /v1/events: applied exactly once, whatever the redeliveries. */
export const eventsApply = defineJob('events.apply', async ({ events }, { deps }) => {
  await recordEvents(deps, events as Parameters<typeof recordEvents>[1])
})
