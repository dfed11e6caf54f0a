import { defineJob } from '../job.ts'
import { recordEvents } from './record-events.ts'
import { sentEventId } from '../../src/services/events.ts'

/**
 * An outbound message becomes a `sent` fact. The event id derives from the message id, so a
 * redelivered job changes nothing. Inbound messages produce their events (replied, bounced…)
 * when they are classified.
 */
export const messageCreated = defineJob('message.created', async (p, { deps }) => {
  if (p.direction !== 'outbound') return
  await recordEvents(deps, [
    {
      tenant_id: p.tenant_id,
      event_id: sentEventId(p.message_id),
      message_id: p.message_id,
      type: 'sent',
      bounce_type: null,
      occurred_at: p.occurred_at,
      email_account_id: p.email_account_id,
      campaign_id: p.campaign_id,
      sequence_step_id: p.sequence_step_id,
      metadata: null,
    },
  ])
})
