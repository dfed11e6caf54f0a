import { insertEvent } from '../../src/tiers/analytics/events.ts'
import { defineJob } from '../job.ts'

/**
 * A stored message becomes an analytics fact: `sent` for outbound, `received` for inbound.
 * The event id derives from the message id, so a redelivered job inserts nothing new.
 */
export const messageCreated = defineJob('message.created', async (p, { deps }) => {
  const type = p.direction === 'outbound' ? 'sent' : 'received'
  await insertEvent(deps.tiers.analytics, {
    tenant_id: p.tenant_id,
    event_id: `${p.message_id}:${type}`,
    message_id: p.message_id,
    type,
    occurred_at: new Date(p.occurred_at),
    email_account_id: p.email_account_id,
    campaign_id: p.campaign_id,
    sequence_step_id: p.sequence_step_id,
    metadata: null,
  })
})
