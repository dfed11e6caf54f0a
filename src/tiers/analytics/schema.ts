/** Analytics tier: event facts (rollups and the seed views arrive with the analytics worker). */
import { index, jsonb, pgSchema, primaryKey, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'

export const analytics = pgSchema('analytics')

/** One row per event; the primary key makes applying an event idempotent. */
export const events = analytics.table(
  'events',
  {
    tenantId: uuid('tenant_id').notNull(),
    eventId: varchar('event_id', { length: 200 }).notNull(),
    messageId: uuid('message_id').notNull(),
    type: varchar('type', { length: 32 }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    emailAccountId: uuid('email_account_id'),
    campaignId: uuid('campaign_id'),
    sequenceStepId: uuid('sequence_step_id'),
    metadata: jsonb('metadata'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.eventId] }), index('events_message').on(t.tenantId, t.messageId)],
)
