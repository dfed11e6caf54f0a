import { z } from 'zod'
import { QUEUES } from '../../src/events/envelope.ts'
import { insertEvent } from '../../src/tiers/analytics/events.ts'
import { defineJob } from '../job.ts'

const payload = z.object({
  tenant_id: z.uuid(),
  message_id: z.uuid(),
  email_account_id: z.uuid(),
  campaign_id: z.uuid().nullable(),
  sequence_step_id: z.uuid().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  message_type: z.string(),
  occurred_at: z.iso.datetime({ offset: true }),
})

/**
 * A stored message becomes an analytics fact: `sent` for outbound, `received` for inbound.
 * The event id derives from the message id, so a redelivered job inserts nothing new.
 */
export const messageCreated = defineJob({
  name: 'message.created',
  queue: QUEUES.events,
  schema: payload,
  maxAttempts: 10,
  async handler(p, { deps }) {
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
  },
})
