import { applyEventChunk } from '../../src/services/analytics.ts'
import { defineJob } from '../job.ts'

/**
 * Events accepted by POST /v1/events: applied exactly once, whatever the redeliveries; an event
 * the database refuses is split off to fail alone.
 */
export const eventsApply = defineJob('events.apply', async (payload, { deps }) => {
  await applyEventChunk(deps, payload)
})
