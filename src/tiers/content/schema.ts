/**
 * Content tier: bodies, headers and attachment bytes, kept away from the hot OLTP rows.
 * A compressed body lives in the *_packed bytea columns (content_text/content_html are then
 * NULL); compression_type says which codec wrote it. A sealed row (key_id set) holds AES-256-GCM
 * ciphertext of the packed (or plain UTF-8) body in the *_packed columns and of its headers in
 * headers_sealed, under its tenant's data key (src/tiers/content/sealing.ts); a row without key_id
 * was written before encryption and is plaintext until content.encrypt_existing seals it.
 */
import { sql } from 'drizzle-orm'
import { boolean, char, check, foreignKey, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'
import { bytea, createdAt } from '../columns.ts'

export const content = pgSchema('content')

export const contentObjects = content.table(
  'content_objects',
  {
    storage_key: varchar({ length: 500 }).notNull(),
    tenant_id: uuid().notNull(),
    /** outbound | inbound | transactional | notification: which retention TTL applies. */
    kind: varchar({ length: 20, enum: ['outbound', 'inbound', 'transactional', 'notification'] }).notNull(),
    content_text: text(),
    content_html: text(),
    content_text_packed: bytea(),
    content_html_packed: bytea(),
    headers: jsonb(),
    /** The tenant data key that sealed the row; NULL: plaintext (written before encryption). */
    key_id: uuid(),
    /** The row's random 96-bit base nonce; each field derives its own from it. */
    nonce: bytea(),
    headers_sealed: bytea(),
    raw_size_bytes: integer().notNull(),
    stored_size_bytes: integer().notNull(),
    compression_type: varchar({ length: 20, enum: ['none', 'gzip', 'zstd'] }).notNull().default('none'),
    content_state: varchar({ length: 20, enum: ['present', 'expired'] }).notNull().default('present'),
    created: createdAt(),
    expires: timestamp({ withTimezone: true }),
    archived: boolean().notNull().default(false),
  },
  (t) => [
    // Every key leads with tenant_id, so on Citus each tenant's rows live on one shard
    // (src/db/distribution.ts) and every lookup names it.
    primaryKey({ name: 'content_objects_pkey', columns: [t.tenant_id, t.storage_key] }),
    index('content_objects_tenant_created').on(t.tenant_id, t.created),
    index('content_objects_expires').on(t.expires).where(sql`${t.expires} is not null and ${t.content_state} = 'present'`),
    // Tombstones by the date they expired: what the prune deletes, oldest first.
    index('content_objects_tombstones').on(t.expires).where(sql`${t.content_state} = 'expired'`),
    // Bodies still in the clear (written before encryption): what content.encrypt_existing seals,
    // found without reading the sealed ones; empty once the job is done.
    index('content_objects_unsealed').on(t.storage_key).where(sql`${t.key_id} is null and ${t.content_state} = 'present'`),
    check('content_objects_compression_type', sql`${t.compression_type} in ('none', 'gzip', 'zstd')`),
    check('content_objects_kind', sql`${t.kind} in ('outbound', 'inbound', 'transactional', 'notification')`),
  ],
)

/**
 * Per-tenant retention, in days; NULL keeps forever. A tenant without a row gets the defaults in
 * src/tiers/content/retention.ts.
 */
export const retentionPolicies = content.table('retention_policies', {
  tenant_id: uuid().primaryKey(),
  outbound_days: integer(),
  inbound_days: integer(),
  transactional_days: integer(),
  notification_days: integer(),
  attachments_days: integer(),
  archive_after_days: integer(),
  updated: timestamp({ withTimezone: true }).notNull().defaultNow(),
})

/**
 * Attachment bytes, once per tenant per sha256: the same file on 10,000 messages is stored once.
 * Never shared across tenants (the key leads with tenant_id).
 */
export const attachmentBlobs = content.table(
  'attachment_blobs',
  {
    tenant_id: uuid().notNull(),
    sha256: char({ length: 64 }).notNull(),
    size_bytes: integer().notNull(),
    content: bytea().notNull(),
    key_id: uuid(),
    nonce: bytea(),
    created: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.sha256] }),
    index('attachment_blobs_unsealed').on(t.tenant_id, t.sha256).where(sql`${t.key_id} is null`),
  ],
)

export const attachments = content.table(
  'attachments',
  {
    id: uuid().notNull(),
    tenant_id: uuid().notNull(),
    parent_storage_key: varchar({ length: 500 }).notNull(),
    filename: varchar({ length: 255 }).notNull(),
    mime_type: varchar({ length: 100 }).notNull(),
    size_bytes: integer().notNull(),
    /** Bytes of attachments written before blobs existed; new rows keep theirs in attachment_blobs. */
    content: bytea(),
    /** Set when `content` (the inline bytes) is sealed. */
    key_id: uuid(),
    nonce: bytea(),
    sha256: varchar({ length: 64 }).notNull(),
    /** The blob holding the bytes; NULL once they expired. */
    blob_sha256: char({ length: 64 }),
    storage_disposition: varchar({ length: 50 }).notNull().default('attachment'),
    created: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'attachments_pkey', columns: [t.tenant_id, t.id] }),
    foreignKey({
      name: 'attachments_parent_fk',
      columns: [t.tenant_id, t.parent_storage_key],
      foreignColumns: [contentObjects.tenant_id, contentObjects.storage_key],
    }).onDelete('cascade'),
    index('attachments_tenant_parent').on(t.tenant_id, t.parent_storage_key),
    index('attachments_blob').on(t.tenant_id, t.blob_sha256).where(sql`${t.blob_sha256} is not null`),
    index('attachments_unsealed').on(t.id).where(sql`${t.content} is not null and ${t.key_id} is null`),
    foreignKey({ columns: [t.tenant_id, t.blob_sha256], foreignColumns: [attachmentBlobs.tenant_id, attachmentBlobs.sha256] }),
  ],
)

export const transactionalEmails = content.table(
  'transactional_emails',
  {
    id: uuid().notNull(),
    tenant_id: uuid().notNull(),
    to_email: varchar({ length: 254 }).notNull(),
    from_email: varchar({ length: 254 }).notNull(),
    subject: varchar({ length: 500 }).notNull(),
    template_key: varchar({ length: 100 }),
    /**
     * The body's content object. No foreign key: on Citus a key that includes the distribution
     * column cannot SET NULL on delete, so a record whose content was deleted (retention, erasure)
     * keeps the key and reads with content null, as it does once its content expired.
     */
    content_storage_key: varchar({ length: 500 }),
    status: varchar({ length: 50 }).notNull().default('queued'),
    created: createdAt(),
    expires: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ name: 'transactional_emails_pkey', columns: [t.tenant_id, t.id] }),
    // A person's erasure finds the records that point at the bodies it deletes.
    index('transactional_emails_content').on(t.content_storage_key),
  ],
)

export const notifications = content.table(
  'notifications',
  {
    id: uuid().notNull(),
    tenant_id: uuid().notNull(),
    user_id: uuid(),
    channel: varchar({ length: 20 }).notNull().default('in_app'),
    title: varchar({ length: 200 }).notNull(),
    body: text(),
    data: jsonb(),
    read_at: timestamp({ withTimezone: true }),
    created: createdAt(),
    expires: timestamp({ withTimezone: true }),
  },
  (t) => [primaryKey({ name: 'notifications_pkey', columns: [t.tenant_id, t.id] })],
)

/**
 * One data key per tenant, stored wrapped (AES-GCM) by the master key whose fingerprint sits
 * beside it. Destroying the key (wrapped_key NULL, destroyed_at set) is the first step of a
 * tenant's deletion: from then on its content cannot be read anywhere, backups included.
 */
export const tenantKeys = content.table('tenant_keys', {
  tenant_id: uuid().primaryKey(),
  key_id: uuid().notNull(),
  wrapped_key: bytea(),
  /** The first 8 bytes of sha256(master key), hex: names the master a key needs, never the master itself. */
  master_fingerprint: varchar({ length: 16 }),
  created: createdAt(),
  rewrapped: timestamp({ withTimezone: true }),
  destroyed_at: timestamp({ withTimezone: true }),
})
