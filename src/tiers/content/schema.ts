/**
 * Content tier: bodies, headers and attachment bytes, kept away from the hot OLTP rows.
 * A compressed body lives in the *_packed bytea columns (content_text/content_html are then
 * NULL); compression_type says which codec wrote it.
 */
import { sql } from 'drizzle-orm'
import { boolean, char, check, foreignKey, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core'
import { bytea, createdAt } from '../columns.ts'

export const content = pgSchema('content')

export const contentObjects = content.table(
  'content_objects',
  {
    storageKey: varchar('storage_key', { length: 500 }).primaryKey(),
    tenantId: uuid('tenant_id').notNull(),
    /** outbound | inbound | transactional | notification: which retention TTL applies. */
    kind: varchar('kind', { length: 20 }).notNull(),
    contentText: text('content_text'),
    contentHtml: text('content_html'),
    contentTextPacked: bytea('content_text_packed'),
    contentHtmlPacked: bytea('content_html_packed'),
    headers: jsonb('headers'),
    rawSizeBytes: integer('raw_size_bytes').notNull(),
    storedSizeBytes: integer('stored_size_bytes').notNull(),
    compressionType: varchar('compression_type', { length: 20 }).notNull().default('none'),
    contentState: varchar('content_state', { length: 20 }).notNull().default('present'),
    created: createdAt(),
    expires: timestamp('expires', { withTimezone: true }),
    archived: boolean('archived').notNull().default(false),
  },
  (t) => [
    index('content_objects_tenant_created').on(t.tenantId, t.created),
    index('content_objects_expires').on(t.expires).where(sql`${t.expires} is not null and ${t.contentState} = 'present'`),
    check('content_objects_compression_type', sql`${t.compressionType} in ('none', 'gzip', 'zstd')`),
    check('content_objects_kind', sql`${t.kind} in ('outbound', 'inbound', 'transactional', 'notification')`),
  ],
)

/**
 * Per-tenant retention, in days; NULL keeps forever. A tenant without a row gets the defaults in
 * src/content/retention.ts.
 */
export const retentionPolicies = content.table('retention_policies', {
  tenantId: uuid('tenant_id').primaryKey(),
  outboundDays: integer('outbound_days'),
  inboundDays: integer('inbound_days'),
  transactionalDays: integer('transactional_days'),
  notificationDays: integer('notification_days'),
  attachmentsDays: integer('attachments_days'),
  archiveAfterDays: integer('archive_after_days'),
  updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
})

/**
 * Attachment bytes, once per tenant per sha256: the same file on 10,000 messages is stored once.
 * Never shared across tenants (the key leads with tenant_id).
 */
export const attachmentBlobs = content.table(
  'attachment_blobs',
  {
    tenantId: uuid('tenant_id').notNull(),
    sha256: char('sha256', { length: 64 }).notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    content: bytea('content').notNull(),
    created: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.sha256] })],
)

export const attachments = content.table(
  'attachments',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull(),
    parentStorageKey: varchar('parent_storage_key', { length: 500 })
      .notNull()
      .references(() => contentObjects.storageKey, { onDelete: 'cascade' }),
    filename: varchar('filename', { length: 255 }).notNull(),
    mimeType: varchar('mime_type', { length: 100 }).notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    /** Bytes of attachments written before blobs existed; new rows keep theirs in attachment_blobs. */
    content: bytea('content'),
    sha256: varchar('sha256', { length: 64 }).notNull(),
    /** The blob holding the bytes; NULL once they expired. */
    blobSha256: char('blob_sha256', { length: 64 }),
    storageDisposition: varchar('storage_disposition', { length: 50 }).notNull().default('attachment'),
    created: createdAt(),
  },
  (t) => [
    index('attachments_parent').on(t.parentStorageKey),
    index('attachments_blob').on(t.tenantId, t.blobSha256).where(sql`${t.blobSha256} is not null`),
    foreignKey({ columns: [t.tenantId, t.blobSha256], foreignColumns: [attachmentBlobs.tenantId, attachmentBlobs.sha256] }),
  ],
)

export const transactionalEmails = content.table(
  'transactional_emails',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull(),
    toEmail: varchar('to_email', { length: 254 }).notNull(),
    fromEmail: varchar('from_email', { length: 254 }).notNull(),
    subject: varchar('subject', { length: 500 }).notNull(),
    templateKey: varchar('template_key', { length: 100 }),
    contentStorageKey: varchar('content_storage_key', { length: 500 }).references(() => contentObjects.storageKey, {
      onDelete: 'set null',
    }),
    status: varchar('status', { length: 50 }).notNull().default('queued'),
    created: createdAt(),
    expires: timestamp('expires', { withTimezone: true }),
  },
  (t) => [index('transactional_emails_tenant').on(t.tenantId, t.id.desc().nullsFirst())],
)

export const notifications = content.table(
  'notifications',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id').notNull(),
    userId: uuid('user_id'),
    channel: varchar('channel', { length: 20 }).notNull().default('in_app'),
    title: varchar('title', { length: 200 }).notNull(),
    body: text('body'),
    data: jsonb('data'),
    readAt: timestamp('read_at', { withTimezone: true }),
    created: createdAt(),
    expires: timestamp('expires', { withTimezone: true }),
  },
  (t) => [index('notifications_tenant').on(t.tenantId, t.id.desc().nullsFirst())],
)
