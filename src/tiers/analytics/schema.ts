/**
 * Analytics tier: event facts, per-day rollups maintained incrementally by the workers, and
 * (in sql/analytics, hand-written) the three seed views materialized over the rollups.
 */
import { sql } from 'drizzle-orm'
import { bigint, check, date, index, integer, jsonb, pgSchema, primaryKey, smallint, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'

export const analytics = pgSchema('analytics')

/** One row per event; the primary key makes applying an event idempotent. */
export const events = analytics.table(
  'events',
  {
    tenantId: uuid('tenant_id').notNull(),
    eventId: varchar('event_id', { length: 200 }).notNull(),
    messageId: uuid('message_id').notNull(),
    type: varchar('type', { length: 32 }).notNull(),
    /** hard | soft, for bounces. */
    bounceType: varchar('bounce_type', { length: 10 }),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    emailAccountId: uuid('email_account_id'),
    campaignId: uuid('campaign_id'),
    sequenceStepId: uuid('sequence_step_id'),
    metadata: jsonb('metadata'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.eventId] }), index('events_message').on(t.tenantId, t.messageId)],
)

/**
 * Counts per day, one row per (dimension, id, day, metric): dimension is campaign, step or
 * mailbox. Applying an event adds to a handful of rows; nothing ever rescans events.
 */
export const rollupDaily = analytics.table(
  'rollup_daily',
  {
    tenantId: uuid('tenant_id').notNull(),
    dimension: varchar('dimension', { length: 10 }).notNull(),
    dimId: uuid('dim_id').notNull(),
    /** The campaign a step belongs to (for step rows); the campaign itself for campaign rows. */
    campaignId: uuid('campaign_id'),
    day: date('day').notNull(),
    metric: varchar('metric', { length: 20 }).notNull(),
    n: bigint('n', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.dimension, t.dimId, t.day, t.metric] })],
)

/** The earliest open, click and reply of each message: what makes a count unique. */
export const messageFirsts = analytics.table(
  'message_firsts',
  {
    tenantId: uuid('tenant_id').notNull(),
    messageId: uuid('message_id').notNull(),
    type: varchar('type', { length: 16 }).notNull(),
    firstAt: timestamp('first_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.messageId, t.type] })],
)

/**
 * One row: whether the views are behind the rollups, whether a refresh is scheduled, and the
 * as_of of the last refresh (every event accepted before it is in the views).
 */
export const refreshState = analytics.table(
  'refresh_state',
  {
    id: smallint('id').primaryKey().default(1),
    dirtySince: timestamp('dirty_since', { withTimezone: true }),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true }),
    asOf: timestamp('as_of', { withTimezone: true }),
    refreshedAt: timestamp('refreshed_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
  },
  (t) => [check('refresh_state_single_row', sql`${t.id} = 1`)],
)
