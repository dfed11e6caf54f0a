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
    tenant_id: uuid().notNull(),
    event_id: varchar({ length: 200 }).notNull(),
    message_id: uuid().notNull(),
    type: varchar({ length: 32 }).notNull(),
    /** hard | soft, for bounces. */
    bounce_type: varchar({ length: 10 }),
    occurred_at: timestamp({ withTimezone: true }).notNull(),
    received_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    email_account_id: uuid(),
    campaign_id: uuid(),
    sequence_step_id: uuid(),
    metadata: jsonb(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.event_id] }), index('events_message').on(t.tenant_id, t.message_id)],
)

/**
 * Counts per day, one row per (dimension, id, day, metric): dimension is campaign, step or
 * mailbox. Applying an event adds to a handful of rows; nothing ever rescans events.
 */
export const rollupDaily = analytics.table(
  'rollup_daily',
  {
    tenant_id: uuid().notNull(),
    dimension: varchar({ length: 10 }).notNull(),
    dim_id: uuid().notNull(),
    /** The campaign a step belongs to (for step rows); the campaign itself for campaign rows. */
    campaign_id: uuid(),
    day: date().notNull(),
    metric: varchar({ length: 20 }).notNull(),
    n: bigint({ mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.dimension, t.dim_id, t.day, t.metric] })],
)

/** The earliest open, click and reply of each message: what makes a count unique. */
export const messageFirsts = analytics.table(
  'message_firsts',
  {
    tenant_id: uuid().notNull(),
    message_id: uuid().notNull(),
    type: varchar({ length: 16 }).notNull(),
    first_at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.message_id, t.type] })],
)

/**
 * One row: whether the views are behind the rollups, whether a refresh is scheduled, and the
 * as_of of the last refresh (every event accepted before it is in the views).
 */
export const refreshState = analytics.table(
  'refresh_state',
  {
    id: smallint().primaryKey().default(1),
    dirty_since: timestamp({ withTimezone: true }),
    scheduled_at: timestamp({ withTimezone: true }),
    as_of: timestamp({ withTimezone: true }),
    refreshed_at: timestamp({ withTimezone: true }),
    duration_ms: integer(),
  },
  (t) => [check('refresh_state_single_row', sql`${t.id} = 1`)],
)
