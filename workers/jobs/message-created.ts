import { defineJob } from '../job.ts'
import { recordEvents } from './record-events.ts'
import { sentEventId } from '../../src/services/events.ts'

/**
 * An outbound message becomes a `sent` fact; an inbound reply, auto-reply or bounce becomes a
 * `replied`, `auto_replied` or `bounced` fact of the outbound message it answers. Event ids derive
 * from the stored message's id, so a redelivered job changes nothing.
 */
export const messageCreated = defineJob('message.created', async (p, { deps }) => {
  const e = p.event
  if (e) {
    await recordEvents(deps, [
      {
        tenant_id: p.tenant_id,
        event_id: `${p.message_id}:${e.type}`,
        message_id: e.message_id,
        type: e.type,
        bounce_type: e.bounce_type,
        occurred_at: p.occurred_at,
        email_account_id: e.email_account_id,
        campaign_id: e.campaign_id,
        sequence_step_id: e.sequence_step_id,
        metadata: { inbound_message_id: p.message_id },
      },
    ])
  }
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
