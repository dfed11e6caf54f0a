/**
 * The design the 4-tier one replaces: one `emails` table holding metadata, bodies and headers
 * together, with the indexes a legacy application grows (one per filter its screens use), and
 * attachment bytes in a side table keyed by email. Entity tables (tenants, mailboxes, campaigns,
 * leads, API keys) are the same in both designs, so the comparison is about messages only.
 */
export const LEGACY_DDL = `
  CREATE SCHEMA IF NOT EXISTS legacy;
  CREATE TABLE legacy.emails (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    email_account_id uuid NOT NULL,
    campaign_id uuid,
    sequence_step_id uuid,
    lead_id uuid,
    parent_message_id uuid REFERENCES legacy.emails (id),
    direction varchar(20) NOT NULL,
    message_type varchar(20) NOT NULL,
    from_email varchar(254) NOT NULL,
    to_email varchar(254) NOT NULL,
    subject varchar(500) NOT NULL,
    status varchar(50) NOT NULL,
    message_id varchar(998),
    content_text text,
    content_html text,
    headers jsonb,
    created timestamptz NOT NULL DEFAULT now(),
    updated timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX emails_account_created ON legacy.emails (tenant_id, email_account_id, created DESC);
  CREATE INDEX emails_campaign ON legacy.emails (tenant_id, campaign_id, created DESC);
  CREATE INDEX emails_lead ON legacy.emails (tenant_id, lead_id, created DESC);
  CREATE INDEX emails_parent ON legacy.emails (parent_message_id);
  CREATE INDEX emails_message_id ON legacy.emails (tenant_id, message_id);
  CREATE TABLE legacy.email_attachments (
    id uuid PRIMARY KEY,
    email_id uuid NOT NULL REFERENCES legacy.emails (id) ON DELETE CASCADE,
    filename varchar(255) NOT NULL,
    mime_type varchar(100) NOT NULL,
    size_bytes integer NOT NULL,
    content bytea NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX email_attachments_email ON legacy.email_attachments (email_id);`

/** The metadata columns both designs share, in the order the loaders write them. */
export const MESSAGE_COLUMNS = [
  'tenant_id',
  'id',
  'email_account_id',
  'campaign_id',
  'sequence_step_id',
  'lead_id',
  'parent_message_id',
  'direction',
  'message_type',
  'from_email',
  'to_email',
  'subject',
  'status',
] as const
