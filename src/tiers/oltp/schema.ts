/**
 * OLTP tier: small, hot rows. Every table leads its primary key with tenant_id (distributable
 * by tenant), and every reference between tenant rows is a composite foreign key on
 * (tenant_id, id), so the database itself refuses a row that points into another tenant.
 */
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  char,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'
import { bytea, createdAt, updatedAt } from '../columns.ts'

export const oltp = pgSchema('oltp')

/**
 * active: its keys work. suspended: its keys answer 403 (the operator can make it active again).
 * deleting: an erasure request is removing it from every tier; the row goes last.
 */
export const TENANT_STATUSES = ['active', 'suspended', 'deleting'] as const

export const tenants = oltp.table(
  'tenants',
  {
    id: uuid().primaryKey(),
    name: varchar({ length: 200 }).notNull(),
    status: varchar({ length: 20, enum: TENANT_STATUSES }).notNull().default('active'),
    /** Per-key request rate and burst for this tenant's keys; NULL: the RATE_LIMIT_* defaults. */
    rate_limit_per_s: integer(),
    rate_limit_burst: integer(),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [check('tenants_status', sql`${t.status} in (${sql.raw(TENANT_STATUSES.map((v) => `'${v}'`).join(', '))})`)],
)

const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' })

export const users = oltp.table(
  'users',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    email: varchar({ length: 254 }).notNull(),
    name: varchar({ length: 200 }),
    role: varchar({ length: 20 }).notNull().default('member'),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] }), uniqueIndex('users_tenant_email').on(t.tenant_id, sql`lower(${t.email})`)],
)

export const apiKeys = oltp.table(
  'api_keys',
  {
    id: uuid().primaryKey(),
    tenant_id: tenantRef(),
    /** sha256 of the key, hex; the key itself is shown once and never stored. */
    key_hash: char({ length: 64 }).notNull().unique('api_keys_key_hash'),
    prefix: varchar({ length: 16 }).notNull(),
    name: varchar({ length: 100 }),
    /** What the key may do (src/scopes.ts); the tenant's first key has every scope. */
    scopes: text().array().notNull().default(sql`'{}'::text[]`),
    created: createdAt(),
    expires_at: timestamp({ withTimezone: true }),
    /** Written in batches by the API processes, so it may lag a request by a flush interval. */
    last_used_at: timestamp({ withTimezone: true }),
    revoked: timestamp({ withTimezone: true }),
  },
  (t) => [index('api_keys_tenant').on(t.tenant_id, t.id.desc().nullsFirst())],
)

/**
 * Token buckets shared by every API process, one row per API key. UNLOGGED (in the migration):
 * losing them in a crash only refills them. Processes lease tokens in
 * small batches (src/services/rate-limits.ts), so a request does not write here each time.
 */
export const rateBuckets = oltp.table('rate_buckets', {
  key_id: uuid().primaryKey(),
  tokens: doublePrecision().notNull(),
  refilled_at: timestamp({ withTimezone: true }).notNull(),
})

export const emailAccounts = oltp.table(
  'email_accounts',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    email_address: varchar({ length: 254 }).notNull(),
    display_name: varchar({ length: 200 }),
    status: varchar({ length: 20 }).notNull().default('active'),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.id] }),
    uniqueIndex('email_accounts_tenant_address').on(t.tenant_id, sql`lower(${t.email_address})`),
  ],
)

export const campaigns = oltp.table(
  'campaigns',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    name: varchar({ length: 200 }).notNull(),
    status: varchar({ length: 20 }).notNull().default('draft'),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] })],
)

export const sequenceSteps = oltp.table(
  'sequence_steps',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    campaign_id: uuid().notNull(),
    step_number: integer().notNull(),
    subject: varchar({ length: 500 }),
    delay_days: integer().notNull().default(0),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.id] }),
    unique('sequence_steps_campaign_step').on(t.tenant_id, t.campaign_id, t.step_number),
    foreignKey({ columns: [t.tenant_id, t.campaign_id], foreignColumns: [campaigns.tenant_id, campaigns.id] }).onDelete('cascade'),
    check('sequence_steps_step_number', sql`${t.step_number} >= 1`),
    check('sequence_steps_delay_days', sql`${t.delay_days} >= 0`),
  ],
)

export const leads = oltp.table(
  'leads',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    email: varchar({ length: 254 }).notNull(),
    first_name: varchar({ length: 100 }),
    last_name: varchar({ length: 100 }),
    status: varchar({ length: 20 }).notNull().default('active'),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] }), uniqueIndex('leads_tenant_email').on(t.tenant_id, sql`lower(${t.email})`)],
)

/**
 * What a message is. Inbound mail adds complaints (RFC 5965 feedback reports), delivery delays
 * (the MTA still trying: not a bounce) and delivery reports (success DSNs), all classified in
 * src/inbound/classify.ts.
 */
export const MESSAGE_TYPES = ['email', 'bounce', 'auto_reply', 'complaint', 'delivery_delay', 'delivery_report'] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

export const CONTENT_STATES = ['present', 'expired', 'erased'] as const

/**
 * Metadata only: no body, no headers. Ids are UUIDv7 generated by the API, so id order is
 * creation order and "newest first" is a plain descending index scan (keyset pagination on id).
 */
export const inboxMessageRefs = oltp.table(
  'inbox_message_refs',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    email_account_id: uuid().notNull(),
    campaign_id: uuid(),
    sequence_step_id: uuid(),
    lead_id: uuid(),
    parent_message_id: uuid(),
    direction: varchar({ length: 20, enum: ['inbound', 'outbound'] }).notNull(),
    message_type: varchar({ length: 20, enum: MESSAGE_TYPES }).notNull().default('email'),
    from_email: varchar({ length: 254 }).notNull(),
    to_email: varchar({ length: 254 }).notNull(),
    subject: varchar({ length: 500 }).notNull().default(''),
    status: varchar({ length: 50 }).notNull(),
    processed: timestamp({ withTimezone: true }),
    /** NULL when the key is the default messageKey(tenant_id, id) (src/storage-keys.ts); reads derive it. */
    content_storage_key: varchar({ length: 500 }),
    /**
     * present | expired | erased: an expired body leaves the ref in place and says so here; an
     * erased one (src/services/erasure) went at the request of the person it named.
     */
    content_state: varchar({ length: 20, enum: CONTENT_STATES }).notNull().default('present'),
    /** The RFC 5322 Message-ID, with its angle brackets; replies and bounces are threaded by it. */
    rfc822_message_id: varchar({ length: 998 }),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.id] }),
    foreignKey({ columns: [t.tenant_id, t.email_account_id], foreignColumns: [emailAccounts.tenant_id, emailAccounts.id] }),
    foreignKey({ columns: [t.tenant_id, t.campaign_id], foreignColumns: [campaigns.tenant_id, campaigns.id] }),
    foreignKey({ columns: [t.tenant_id, t.sequence_step_id], foreignColumns: [sequenceSteps.tenant_id, sequenceSteps.id] }),
    foreignKey({ columns: [t.tenant_id, t.lead_id], foreignColumns: [leads.tenant_id, leads.id] }),
    foreignKey({ columns: [t.tenant_id, t.parent_message_id], foreignColumns: [t.tenant_id, t.id] }),
    // DESC NULLS FIRST is what ORDER BY id DESC means; an index built DESC NULLS LAST (drizzle's
    // default for desc()) cannot supply that order, so every listing sorted the whole mailbox.
    index('inbox_message_refs_account').on(t.tenant_id, t.email_account_id, t.id.desc().nullsFirst()),
    index('inbox_message_refs_campaign').on(t.tenant_id, t.campaign_id, t.id.desc().nullsFirst()).where(sql`${t.campaign_id} is not null`),
    index('inbox_message_refs_lead').on(t.tenant_id, t.lead_id, t.id.desc().nullsFirst()).where(sql`${t.lead_id} is not null`),
    index('inbox_message_refs_parent').on(t.tenant_id, t.parent_message_id).where(sql`${t.parent_message_id} is not null`),
    // Deleting a step checks that no message names it (the composite foreign key): without this,
    // each step deleted scanned the tenant's refs. Built CONCURRENTLY (sql/oltp/0013).
    index('inbox_message_refs_step').on(t.tenant_id, t.sequence_step_id).where(sql`${t.sequence_step_id} is not null`),
    // A hash index: 4-byte hashes instead of copies of 40-100 byte Message-IDs; lookups are by equality only.
    index('inbox_message_refs_rfc822').using('hash', t.rfc822_message_id).where(sql`${t.rfc822_message_id} is not null`),
    // An inbound Message-ID is stored once per tenant, even when redeliveries race each other.
    // md5 keeps the key small and under btree's size limit for a 998-byte id.
    uniqueIndex('inbox_message_refs_inbound_once')
      .on(t.tenant_id, sql`md5(${t.rfc822_message_id})`)
      .where(sql`${t.direction} = 'inbound' and ${t.rfc822_message_id} is not null`),
    check('inbox_message_refs_direction', sql`${t.direction} in ('inbound', 'outbound')`),
    check('inbox_message_refs_message_type', sql`${t.message_type} in (${sql.raw(MESSAGE_TYPES.map((v) => `'${v}'`).join(', '))})`),
    check('inbox_message_refs_content_state', sql`${t.content_state} in (${sql.raw(CONTENT_STATES.map((v) => `'${v}'`).join(', '))})`),
  ],
)

/**
 * Who did what; erasure and admin actions write here. An operator's action has no tenant: its row
 * names the nil uuid (NO_TENANT), so tenant_id, the distribution column on Citus, is never NULL.
 * No foreign key to tenants: a deleted tenant's rows are removed by the purge, and the nil uuid is
 * no tenant.
 */
export const auditLog = oltp.table(
  'audit_log',
  {
    id: bigint({ mode: 'bigint' }).generatedAlwaysAsIdentity(),
    tenant_id: uuid().notNull(),
    actor: varchar({ length: 100 }).notNull(),
    action: varchar({ length: 100 }).notNull(),
    target_type: varchar({ length: 50 }),
    target_id: varchar({ length: 100 }),
    detail: jsonb(),
    created: createdAt(),
    /** The request that made the change (X-Request-Id); null for workers and the CLI. */
    request_id: varchar({ length: 100 }),
    /** succeeded | started (an intent, before a change outside OLTP) | rejected (4xx) | failed (5xx or a failed change elsewhere). */
    outcome: varchar({ length: 20 }).notNull().default('succeeded'),
  },
  (t) => [
    // GET /v1/audit-log: a tenant's entries newest first by id (the cursor), scanning the key backwards;
    // also the purge's and the erasure redaction's walk.
    primaryKey({ name: 'audit_log_pkey', columns: [t.tenant_id, t.id] }),
    index('audit_log_tenant_action').on(t.tenant_id, t.action, t.id.desc().nullsFirst()),
    // GET /v1/admin/audit-log across tenants, and the retention prune's walk from the oldest.
    index('audit_log_id').on(t.id),
    index('audit_log_action').on(t.action, t.id.desc().nullsFirst()),
  ],
)

/**
 * Transactional outbox, used only when the queue tier is a different database: the ref and
 * its event commit together here, and a relay moves the event to pgmq afterwards. Each row names
 * the tenant whose write made it, so on Citus it sits on that tenant's shard and the write stays
 * one shard's transaction. The default is for rows written by a process of the release before
 * 0017 during a deploy: they take the nil uuid and are relayed like any other.
 */
export const outbox = oltp.table(
  'outbox',
  {
    tenant_id: uuid().notNull().default(sql`'00000000-0000-0000-0000-000000000000'::uuid`),
    id: bigint({ mode: 'bigint' }).generatedAlwaysAsIdentity(),
    queue: varchar({ length: 64 }).notNull(),
    payload: jsonb().notNull(),
    /** A relay's lease: while in the future, other relays skip the row. */
    claimed_until: timestamp({ withTimezone: true }),
    created: createdAt(),
  },
  (t) => [
    // A tenant's rows oldest first: the relay's claim on Citus, a purge's and an erasure's lookup.
    primaryKey({ name: 'outbox_pkey', columns: [t.tenant_id, t.id] }),
    // Every tenant's rows oldest first: the relay's claim on one server.
    index('outbox_id').on(t.id),
    index('outbox_created').on(t.created),
  ],
)

/*
 * Legacy migration state (`npm run legacy`, src/services/legacy-*.ts). In the OLTP tier because a
 * batch's refs, its id-map rows and its checkpoint commit in one OLTP transaction: a crash leaves
 * all of a batch or none of it, so a re-run neither duplicates nor skips. Operator tables: keyed
 * by run, not distributed by tenant; they can be dropped once a migration is finalized.
 */

/** One migration of one legacy table: the mapping it started with, so a resume cannot switch mappings. */
export const legacyRuns = oltp.table('legacy_runs', {
  name: varchar({ length: 200 }).primaryKey(),
  /** Where the rows came from (URL without password, and table), for the operator. */
  source: varchar({ length: 500 }).notNull(),
  mapping: jsonb().notNull(),
  /** A single-tenant source's tenant, or the tenant a --tenant run is restricted to. */
  tenant_id: uuid(),
  created: createdAt(),
})

/** The checkpoint: one row per committed batch; the last one's last_key is where a re-run resumes. */
export const legacyBatches = oltp.table(
  'legacy_batches',
  {
    run: varchar({ length: 200 })
      .notNull()
      .references(() => legacyRuns.name, { onDelete: 'cascade' }),
    batch_no: integer().notNull(),
    /** The batch is the legacy keys in (previous batch's last_key, last_key], as text. */
    first_key: varchar({ length: 100 }).notNull(),
    last_key: varchar({ length: 100 }).notNull(),
    rows: integer().notNull(),
    /** Messages whose retention had already run out at their original date + TTL. */
    expired: integer().notNull(),
    /** The content rows got their original dates (the batch's last step, after the refs committed). */
    dated: boolean().notNull().default(false),
    created: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.run, t.batch_no] })],
)

/**
 * The id map: which message each legacy row became, and in which batch. Rollback deletes exactly
 * these messages, never one written through the API. parent_legacy_id is set while the row's
 * thread parent has not been migrated yet; the parent's batch links it and clears it.
 */
export const legacyIds = oltp.table(
  'legacy_ids',
  {
    run: varchar({ length: 200 }).notNull(),
    legacy_id: varchar({ length: 100 }).notNull(),
    tenant_id: tenantRef(),
    message_id: uuid().notNull(),
    batch_no: integer().notNull(),
    parent_legacy_id: varchar({ length: 100 }),
  },
  (t) => [
    primaryKey({ columns: [t.run, t.legacy_id] }),
    uniqueIndex('legacy_ids_message').on(t.tenant_id, t.message_id),
    index('legacy_ids_batch').on(t.run, t.batch_no),
    index('legacy_ids_pending_parent').on(t.run, t.parent_legacy_id).where(sql`${t.parent_legacy_id} is not null`),
    // No cascade: a run's batches cannot go while messages it migrated are still mapped, so a
    // rollback can always find them.
    foreignKey({ columns: [t.run, t.batch_no], foreignColumns: [legacyBatches.run, legacyBatches.batch_no] }),
  ],
)

/**
 * Addresses a tenant must not mail (src/services/suppressions.ts): added by a hard bounce or a
 * complaint on one of its messages, by repeated soft bounces, by a provider webhook, or by hand.
 * One row per address, compared lowercased; the id (UUIDv7) orders the listing newest first.
 */
export const suppressions = oltp.table(
  'suppressions',
  {
    tenant_id: tenantRef(),
    id: uuid().notNull(),
    /** Lowercased. */
    email: varchar({ length: 254 }).notNull(),
    /** hard_bounce, complaint, soft_bounces, unsubscribe or manual (SUPPRESSION_REASONS). */
    reason: varchar({ length: 20 }).notNull(),
    /** The bounce reason (src/inbound/reasons.ts) when a bounce caused it. */
    bounce_reason: varchar({ length: 20 }),
    /** Where it came from: inbound, api, or webhook:<provider>. */
    source: varchar({ length: 30 }).notNull(),
    /** The message that caused it: the bounce or complaint received, else the message it answered. */
    source_message_id: uuid(),
    note: varchar({ length: 500 }),
    created: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] }), uniqueIndex('suppressions_tenant_email').on(t.tenant_id, t.email)],
)

/**
 * Consecutive soft bounces of one address that count toward suppression (a mailbox that stays
 * full or unreachable), within SOFT_BOUNCE_WINDOW_DAYS of the first; a delivery or a reply ends
 * the streak. Sender-side soft bounces (reputation, policy, content) never count.
 */
export const softBounceStreaks = oltp.table(
  'soft_bounce_streaks',
  {
    tenant_id: tenantRef(),
    email: varchar({ length: 254 }).notNull(),
    count: integer().notNull(),
    first_at: timestamp({ withTimezone: true }).notNull(),
    last_at: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.email] })],
)

/**
 * What a tenant configured for a provider's event webhook: the key or credentials its deliveries
 * are verified with (src/webhooks). One row per tenant and provider.
 */
export const webhookSettings = oltp.table(
  'webhook_settings',
  {
    tenant_id: tenantRef(),
    provider: varchar({ length: 20 }).notNull(),
    settings: jsonb().notNull(),
    created: createdAt(),
    updated: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.provider] })],
)

/**
 * Provider events already applied, by the provider's own event id: a redelivered webhook changes
 * nothing twice (a soft bounce must not count twice toward suppression). Pruned after
 * WEBHOOK_RECEIPT_RETENTION_DAYS, longer than any provider retries.
 */
export const webhookReceipts = oltp.table(
  'webhook_receipts',
  {
    tenant_id: tenantRef(),
    provider: varchar({ length: 20 }).notNull(),
    event_id: varchar({ length: 200 }).notNull(),
    created: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.provider, t.event_id] }), index('webhook_receipts_created').on(t.created)],
)

/**
 * Idempotency-Key (src/services/idempotency.ts): a POST's successful answer, kept a day so a
 * client's retry gets it again instead of writing twice, and the claim that stops two copies of
 * one request from running at once. tenant_id is the nil UUID for the operator's POST
 * /v1/tenants, which belongs to no tenant; so no foreign key (rows live a day, then the prune
 * deletes them).
 */
export const idempotencyKeys = oltp.table(
  'idempotency_keys',
  {
    tenant_id: uuid().notNull(),
    /** sha256 of the client's key: the key itself also seals the stored answer, so it is never stored. */
    key_hash: char({ length: 64 }).notNull(),
    /** sha256 of method, path and query, Content-Type and body bytes. */
    request_hash: char({ length: 64 }).notNull(),
    /** running (claim_id holds it until claimed_until) or done (status and response kept). */
    state: varchar({ length: 10 }).notNull(),
    claim_id: uuid().notNull(),
    /** A running claim whose process died lapses here, and a retry takes the key over. */
    claimed_until: timestamp({ withTimezone: true }).notNull(),
    status: integer(),
    content_type: varchar({ length: 200 }),
    /** The answer's body, sealed under the client's key (AES-256-GCM); NULL when done: too large to keep. */
    response: bytea(),
    created: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenant_id, t.key_hash] }), index('idempotency_keys_created').on(t.created)],
)

export const ERASURE_KINDS = ['person', 'tenant'] as const
export const ERASURE_STATUSES = ['pending', 'running', 'completed'] as const

/**
 * Erasure requests (src/services/erasure): a person's data erased from a tenant, or a whole tenant
 * deleted, across the four tiers by the erasure.run job. The row is also the job's progress: a
 * stage, a cursor in it, and a batch written down before it is applied to another tier, so a run
 * killed at any point resumes where it was and counts every row once. No foreign key to the
 * tenant: a tenant's deletion request outlives the tenant, as the record that it happened.
 */
export const erasureRequests = oltp.table(
  'erasure_requests',
  {
    id: uuid().notNull(),
    tenant_id: uuid().notNull(),
    kind: varchar({ length: 10, enum: ERASURE_KINDS }).notNull(),
    status: varchar({ length: 20, enum: ERASURE_STATUSES }).notNull().default('pending'),
    /** sha256 of the lowercased address: all a person's request keeps of it once completed. */
    email_sha256: char({ length: 64 }),
    /** The address itself, only while the erasure runs (the job searches for it); NULL once completed. */
    email: varchar({ length: 254 }),
    /** The lead the request named, when it named one. */
    lead_id: uuid(),
    /** Who asked: `api_key:<id>` or `admin`. */
    requested_by: varchar({ length: 100 }).notNull(),
    stage: varchar({ length: 40 }).notNull(),
    cursor: text(),
    /** Work on another tier, written down before it is applied: a crash repeats it, never skips or recounts it. */
    pending: jsonb(),
    /** Moved on by every step, so two copies of the job never both move the request on. */
    version: integer().notNull().default(0),
    /** What was erased, per tier: { oltp: { leads: 1, … }, content: …, analytics: …, queue: … }. */
    counts: jsonb().notNull().default({}),
    requested_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    completed_at: timestamp({ withTimezone: true }),
  },
  (t) => [
    // Leads with tenant_id, like every key of a tenant's rows (src/db/distribution.ts).
    primaryKey({ name: 'erasure_requests_pkey', columns: [t.tenant_id, t.id] }),
    // One unfinished request per person (or tenant): asking again answers the one already running.
    uniqueIndex('erasure_requests_unfinished')
      .on(t.tenant_id, t.kind, sql`coalesce(${t.email_sha256}, '')`)
      .where(sql`${t.status} <> 'completed'`),
    check('erasure_requests_kind', sql`${t.kind} in ('person', 'tenant')`),
    check('erasure_requests_status', sql`${t.status} in ('pending', 'running', 'completed')`),
  ],
)
