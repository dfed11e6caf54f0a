/**
 * Analytics tier: event facts, per-day rollups maintained incrementally by the workers, and the
 * three seed views as tables the refresh keeps in step with the rollups (the functions that
 * write them are hand-written in sql/analytics).
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
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.event_id] }),
    index('events_message').on(t.tenant_id, t.message_id),
    // The prune deletes the oldest events a batch at a time (src/services/prune.ts). A btree, not a
    // BRIN: space freed by the prune is reused by new events, and a reused block range would keep
    // its oldest time in its BRIN summary and match every "older than" scan.
    index('events_occurred').on(t.occurred_at),
  ],
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
    /** An event type, hard_ or soft_bounced, unique_<type>, or bounced:<reason> (a BOUNCE_REASONS entry). */
    metric: varchar({ length: 32 }).notNull(),
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
 * One row: the refresh's schedule (dirty_since: the first apply since the last refresh began;
 * scheduled_at), and the last refresh's as_of over every tenant and its duration, for monitoring.
 * What the views miss is in dirty_keys; a tenant's own as_of in tenant_as_of.
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

/**
 * The (dimension, id, day) rows whose rollups changed since the last refresh: apply_events adds
 * them in the transaction that moves the rollups, the refresh recomputes exactly these rows and
 * deletes them in the transaction that writes the views. A tenant with none is fully refreshed.
 * Append-only, with no unique key: a key an apply adds stays invisible to a refresh until the
 * apply's rollups commit with it, so no refresh can take it before those changes are visible.
 */
export const dirtyKeys = analytics.table(
  'dirty_keys',
  {
    tenant_id: uuid().notNull(),
    dimension: varchar({ length: 10 }).notNull(),
    dim_id: uuid().notNull(),
    day: date().notNull(),
  },
  (t) => [index('dirty_keys_tenant').on(t.tenant_id)],
)

/** Per tenant, the as_of of the last refresh that covered it (what its reports say while it is dirty). */
export const tenantAsOf = analytics.table('tenant_as_of', {
  tenant_id: uuid().primaryKey(),
  as_of: timestamp({ withTimezone: true }).notNull(),
})

const counts = () => ({
  sent: bigint({ mode: 'number' }).notNull(),
  delivered: bigint({ mode: 'number' }).notNull(),
  opened: bigint({ mode: 'number' }).notNull(),
  unique_opened: bigint({ mode: 'number' }).notNull(),
  clicked: bigint({ mode: 'number' }).notNull(),
  unique_clicked: bigint({ mode: 'number' }).notNull(),
  replied: bigint({ mode: 'number' }).notNull(),
  unique_replied: bigint({ mode: 'number' }).notNull(),
  auto_replied: bigint({ mode: 'number' }).notNull(),
  bounced: bigint({ mode: 'number' }).notNull(),
  hard_bounced: bigint({ mode: 'number' }).notNull(),
  soft_bounced: bigint({ mode: 'number' }).notNull(),
  unsubscribed: bigint({ mode: 'number' }).notNull(),
  complained: bigint({ mode: 'number' }).notNull(),
  /** Bounces per reason (BOUNCE_REASONS), only the nonzero ones: they add up to bounced. */
  bounce_reasons: jsonb().$type<Record<string, number>>().notNull().default({}),
})

/** The seed views: one row of counts per campaign, mailbox or step and day. */
export const campaignAnalytics = analytics.table(
  'campaign_analytics',
  { tenant_id: uuid().notNull(), campaign_id: uuid().notNull(), day: date().notNull(), ...counts() },
  (t) => [primaryKey({ name: 'campaign_analytics_key', columns: [t.tenant_id, t.campaign_id, t.day] })],
)

export const mailboxAnalytics = analytics.table(
  'mailbox_analytics',
  { tenant_id: uuid().notNull(), email_account_id: uuid().notNull(), day: date().notNull(), ...counts() },
  (t) => [primaryKey({ name: 'mailbox_analytics_key', columns: [t.tenant_id, t.email_account_id, t.day] })],
)

export const sequenceStepAnalytics = analytics.table(
  'sequence_step_analytics',
  { tenant_id: uuid().notNull(), campaign_id: uuid(), sequence_step_id: uuid().notNull(), day: date().notNull(), ...counts() },
  (t) => [
    primaryKey({ name: 'sequence_step_analytics_key', columns: [t.tenant_id, t.sequence_step_id, t.day] }),
    index('sequence_step_analytics_campaign').on(t.tenant_id, t.campaign_id, t.day),
  ],
)

/**
 * Per legacy migration batch, the rollup deltas its migrated messages added (their historical
 * sent, answers and unique replies) and the message_firsts rows it set: written in the
 * transaction that applies them, so a redone batch finds it and adds nothing, and a rollback
 * subtracts exactly what it says. History never goes through events: the prune would delete them.
 */
export const legacyHistory = analytics.table(
  'legacy_history',
  {
    run: varchar({ length: 200 }).notNull(),
    batch_no: integer().notNull(),
    deltas: jsonb().notNull(),
    applied_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.run, t.batch_no] })],
)
