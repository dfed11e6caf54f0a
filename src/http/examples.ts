/**
 * The examples the OpenAPI document shows: one small tenant's world (a mailbox, a campaign with a
 * step, a lead, a message and its reply), so ids and addresses agree across routes the way they
 * would in a real session. The redocly lint checks every example against its schema.
 */
import { DEFAULT_POLICY } from '../tiers/content/retention.ts'
import { COUNT_COLUMNS } from '../tiers/analytics/views.ts'

/** UUIDv7s in creation order, as the API issues them. */
export const ID = {
  tenant: '019cadd2-391f-7ce9-aa06-e9ab85a0bcc1',
  apiKey: '019cadd2-392d-75db-b5e2-fc574dad2986',
  emailAccount: '019cadd2-95c4-7c40-acb8-5f3f4a24e39a',
  campaign: '019cadd3-3f43-78a6-b447-c0ceb48438b5',
  step: '019cadd3-73db-71c1-873d-212ba950666d',
  lead: '019cadd3-e476-73f8-86e5-5426eae0d2c1',
  message: '019cb2b6-383c-7bf3-90b0-090d62590992',
  attachment: '019cb2b6-383f-7dc1-809c-38f26b68b48e',
  reply: '019cb34a-4fe2-7517-8d68-615c80690847',
  transactional: '019cb35f-8afa-7af3-98a8-f065a3f96f0e',
  notification: '019cb36d-cee8-766e-b969-ec07f1f83a79',
  user: '019caa22-c188-78d3-bf9a-39142335e9e2',
} as const

export const REQUEST_ID = '5f0c1a9e-3b7d-4e2a-8c61-0d94b2e7f3a8'
export const API_KEY = 'edp_vxXnX_EnbyMK31eyf3IPjP4LYybKoSs7II4roCaeJno'

const SALES = 'sales@acme.example'
const LEAD = 'dana.whitfield@northwind.example'
const tenantId = ID.tenant

export const tenant = {
  id: ID.tenant,
  name: 'Acme Outreach',
  status: 'active',
  created: '2026-03-02T09:12:41.503Z',
  rate_limit_per_s: null,
  rate_limit_burst: null,
}

export const emailAccount = {
  id: ID.emailAccount,
  tenant_id: tenantId,
  email_address: SALES,
  display_name: 'Acme Sales',
  status: 'active',
  created: '2026-03-02T09:13:05.220Z',
  updated: '2026-03-02T09:13:05.220Z',
}

export const campaign = {
  id: ID.campaign,
  tenant_id: tenantId,
  name: 'Q2 logistics outreach',
  status: 'draft',
  created: '2026-03-02T09:13:48.611Z',
  updated: '2026-03-02T09:13:48.611Z',
}

export const step = {
  id: ID.step,
  tenant_id: tenantId,
  campaign_id: ID.campaign,
  step_number: 1,
  subject: 'Cutting freight costs at Northwind',
  delay_days: 0,
  created: '2026-03-02T09:14:02.075Z',
  updated: '2026-03-02T09:14:02.075Z',
}

export const lead = {
  id: ID.lead,
  tenant_id: tenantId,
  email: LEAD,
  first_name: 'Dana',
  last_name: 'Whitfield',
  status: 'active',
  created: '2026-03-02T09:14:30.902Z',
  updated: '2026-03-02T09:14:30.902Z',
}

export const createMessage = {
  email_account_id: ID.emailAccount,
  from_email: SALES,
  to_email: LEAD,
  subject: 'Cutting freight costs at Northwind',
  content_text: 'Hi Dana,\n\nWould a 20-minute call on Tuesday work to walk through our routing numbers?\n\nSam',
  content_html: '<p>Hi Dana,</p><p>Would a 20-minute call on Tuesday work to walk through our routing numbers?</p><p>Sam</p>',
  headers: { 'List-Unsubscribe': '<mailto:unsubscribe@acme.example>' },
  sequence_step_id: ID.step,
  lead_id: ID.lead,
  attachments: [{ filename: 'rate-card.pdf', mime_type: 'application/pdf', content_base64: 'JVBERi0xLjcKJcfs', storage_disposition: 'attachment' }],
}

export const messageBatch = {
  messages: [
    { email_account_id: ID.emailAccount, from_email: SALES, to_email: LEAD, subject: 'Cutting freight costs at Northwind', content_text: 'Hi Dana, …', sequence_step_id: ID.step },
    { email_account_id: ID.emailAccount, from_email: SALES, to_email: 'gone@northwind.example', subject: 'Cutting freight costs', content_text: 'Hi, …' },
  ],
}

export const messageBatchResult = {
  created: 1,
  failed: 1,
  results: [
    { index: 0, status: 201, id: ID.message },
    {
      index: 1,
      status: 422,
      type: 'urn:edp:problem:validation_failed',
      detail: 'gone@northwind.example is on the suppression list (hard_bounce: user_unknown)',
      errors: [{ field: 'to_email', message: 'suppressed; set override_suppression to send anyway' }],
    },
  ],
}

export const messageRef = {
  id: ID.message,
  tenant_id: tenantId,
  email_account_id: ID.emailAccount,
  campaign_id: ID.campaign,
  sequence_step_id: ID.step,
  lead_id: ID.lead,
  parent_message_id: null,
  direction: 'outbound',
  message_type: 'email',
  from_email: SALES,
  to_email: LEAD,
  subject: createMessage.subject,
  status: 'sent',
  processed: null,
  content_storage_key: `${tenantId}/msg/${ID.message}`,
  content_state: 'present',
  rfc822_message_id: `<${ID.message}@acme.example>`,
  created: '2026-03-03T08:00:12.348Z',
  updated: '2026-03-03T08:00:12.348Z',
}

export const messageContent = {
  content_text: createMessage.content_text,
  content_html: createMessage.content_html,
  headers: [{ name: 'List-Unsubscribe', value: '<mailto:unsubscribe@acme.example>' }],
}

export const messageDetail = {
  ...messageRef,
  content: messageContent,
  attachments: [{ id: ID.attachment, filename: 'rate-card.pdf', mime_type: 'application/pdf', size_bytes: 48213, storage_disposition: 'attachment' }],
}

export const reply = {
  ...messageRef,
  id: ID.reply,
  parent_message_id: ID.message,
  direction: 'inbound',
  from_email: LEAD,
  to_email: SALES,
  subject: `Re: ${createMessage.subject}`,
  status: 'received',
  content_storage_key: `${tenantId}/msg/${ID.reply}`,
  rfc822_message_id: '<CAF8x2kq9=Yt@mail.northwind.example>',
  created: '2026-03-03T10:41:57.730Z',
  updated: '2026-03-03T10:41:57.730Z',
}

export const rawReply = [
  `From: Dana Whitfield <${LEAD}>`,
  `To: Acme Sales <${SALES}>`,
  `Subject: ${reply.subject}`,
  'Date: Tue, 03 Mar 2026 10:41:55 +0000',
  `Message-ID: ${reply.rfc822_message_id}`,
  `In-Reply-To: ${messageRef.rfc822_message_id}`,
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Tuesday at 3pm works. Send an invite.',
  '',
].join('\r\n')

export const events = {
  events: [
    { event_id: 'ses-0100018e-delivery', message_id: ID.message, type: 'delivered', occurred_at: '2026-03-03T08:00:14Z' },
    { event_id: 'trk-open-7f3a91', message_id: ID.message, type: 'opened', occurred_at: '2026-03-03T09:12:40Z', metadata: { user_agent: 'Mozilla/5.0' } },
    { event_id: 'trk-open-7f3a92', message_id: '019cb2b6-0000-7000-8000-000000000000', type: 'opened', occurred_at: '2026-03-03T09:13:02Z' },
  ],
}

export const eventsAccepted = {
  accepted: ['ses-0100018e-delivery', 'trk-open-7f3a91'],
  rejected: [{ event_id: 'trk-open-7f3a92', status: 404, detail: 'message 019cb2b6-0000-7000-8000-000000000000 not found' }],
}

const COUNTS: Record<string, number> = { sent: 412, delivered: 405, opened: 233, unique_opened: 187, clicked: 41, unique_clicked: 36, replied: 29, unique_replied: 27, auto_replied: 11, bounced: 7, hard_bounced: 5, soft_bounced: 2, unsubscribed: 3, complained: 0 }
/** The 7 bounces by reason: 5 hard (dead addresses), 2 soft. */
export const bounceReasons = { user_unknown: 4, host_unknown: 1, mailbox_full: 1, spam_detected: 1 }
const counts = { ...Object.fromEntries(COUNT_COLUMNS.map((c) => [c, COUNTS[c] ?? 0])), bounce_reasons: bounceReasons }
const freshness = { as_of: '2026-03-03T11:30:02.114Z', freshness_seconds: 1.2 }
const rates = { open_rate: 0.4617, click_rate: 0.0889, reply_rate: 0.0716, bounce_rate: 0.017 }

export const campaignReport = { campaign_id: ID.campaign, ...counts, ...rates, ...freshness }
export const mailboxReport = { email_account_id: ID.emailAccount, ...counts, ...rates, ...freshness }
export const stepReports = { data: [{ sequence_step_id: ID.step, step_number: 1, ...counts, ...rates, ...freshness }], as_of: freshness.as_of }

export const apiKey = {
  id: ID.apiKey,
  tenant_id: tenantId,
  prefix: 'edp_79Cf17ZI',
  name: 'ESP webhooks',
  scopes: ['events:write'],
  created: '2026-03-02T09:12:41.517Z',
  expires_at: '2027-03-01T00:00:00.000Z',
  last_used_at: null,
  revoked: null,
}

export const transactional = {
  id: ID.transactional,
  tenant_id: tenantId,
  to_email: LEAD,
  from_email: 'no-reply@acme.example',
  subject: 'Reset your Acme password',
  template_key: 'password-reset',
  content_storage_key: `${tenantId}/tx/${ID.transactional}`,
  status: 'queued',
  created: '2026-03-03T11:05:09.114Z',
  expires: '2026-06-01T11:05:09.114Z',
}

export const notification = {
  id: ID.notification,
  tenant_id: tenantId,
  user_id: ID.user,
  channel: 'in_app',
  title: 'Lead import finished',
  body: '1,204 leads imported, 3 rows skipped.',
  data: { imported: 1204, skipped: 3 },
  read_at: null,
  created: '2026-03-03T11:20:44.008Z',
  expires: '2026-04-02T11:20:44.008Z',
}

export const storage = {
  objects: 18342,
  raw_bytes: 512733120,
  stored_bytes: 61290411,
  archived_objects: 9120,
  expired_objects: 310,
  attachments: { count: 2210, unique_blobs: 140, raw_bytes: 331776000, stored_bytes: 15232000 },
}

export const retentionPolicy = DEFAULT_POLICY

export const queueStats = [
  { queue: 'jobs', depth: 3, oldest_age_seconds: 0.8, total_messages: 184220, processed_per_second: 41.5, failed_per_second: 0, dead_letters: 0 },
  { queue: 'events', depth: 120, oldest_age_seconds: 1.4, total_messages: 2310455, processed_per_second: 498.2, failed_per_second: 0.1, dead_letters: 2 },
]

const tiersOk = { oltp: { ok: true }, content: { ok: true }, analytics: { ok: true }, queue: { ok: true } }
export const ready = { ready: true, tiers: tiersOk, workers: { ok: true, heartbeat_age_seconds: 2.1, oldest_message_age_seconds: 0.4 } }
export const notReady = {
  ready: false,
  tiers: { ...tiersOk, content: { ok: false, detail: 'pending migrations: 0007_attachment_blobs' } },
  workers: ready.workers,
}

export const inboundStored = { ...reply, classification: { type: 'email' } }

export const stricterPolicy = {
  content_ttl_days: { outbound: 365, inbound: 365, transactional: 30, notification: 14 },
  attachments_ttl_days: 180,
  archive_after_days: null,
}

export const suppression = {
  id: '019cb40c-7a1e-7d52-9c3b-52e6a1f0c4d8',
  email: LEAD,
  reason: 'hard_bounce',
  bounce_reason: 'user_unknown',
  source: 'inbound',
  source_message_id: ID.reply,
  note: null,
  created: '2026-03-04T11:20:07.513Z',
}

export const webhookConfiguration = { provider: 'mailgun', configured: true, url: `/v1/webhooks/mailgun?tenant_id=${ID.tenant}` }

/** A Mailgun permanent failure, as its HTTP webhook posts it (signature abridged). */
export const mailgunEvent = {
  signature: { timestamp: '1772623207', token: 'c4b9f2a7d1e84f6b9a3c5e7d2f1a0b8c6d4e2f1a3b5c7d9e0f', signature: '4f2c…' },
  'event-data': {
    id: 'CPgfbmQMTCKtHW6uIWtuVe',
    event: 'failed',
    severity: 'permanent',
    timestamp: 1772623207.52,
    recipient: LEAD,
    message: { headers: { 'message-id': `${ID.message}@acme.example` } },
    'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist', 'enhanced-code': '5.1.1' },
    'user-variables': { edp_message_id: ID.message },
  },
}

export const webhookResult = { received: 1, duplicates: 0, unmatched: 0, rejected: [], suppressed: [LEAD] }

/** An SNS notification envelope as SNS posts it (Content-Type text/plain), signature abridged. */
export const snsEnvelope = JSON.stringify({
  Type: 'Notification',
  MessageId: '5d1f2a3b-8c4e-5f60-9a7b-1c2d3e4f5a6b',
  TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses-events',
  Message: JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: LEAD, status: '5.1.1' }] }, mail: { commonHeaders: { messageId: `<${ID.message}@acme.example>` } } }),
  Timestamp: '2026-03-04T11:20:07.513Z',
  SignatureVersion: '2',
  Signature: 'EXAMPLE…',
  SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
})

export const doctorReport = {
  ok: true,
  checks: [
    { name: 'refs_without_content', checked: 1204, violations: 0, examples: [] },
    { name: 'orphan_content', checked: 1180, violations: 0, examples: [] },
    { name: 'attachments_without_blob', checked: 311, violations: 0, examples: [] },
    { name: 'analytics_recount', checked: 200, violations: 0, examples: [] },
    { name: 'stale_queue_messages', checked: 3, violations: 0, examples: [] },
    { name: 'content_keys', checked: 12, violations: 0, examples: [] },
  ],
}

// Changes to the resources above, as PATCH answers them.
export const pausedEmailAccount = { ...emailAccount, status: 'paused', updated: '2026-03-05T16:02:11.374Z' }
export const activeCampaign = { ...campaign, status: 'active', updated: '2026-03-02T09:20:37.145Z' }
export const editedStep = { ...step, subject: 'Freight costs at Northwind: a 20-minute look', delay_days: 2, updated: '2026-03-02T09:18:52.660Z' }
export const editedLead = { ...lead, last_name: 'Whitfield-Ames', updated: '2026-03-06T10:44:03.518Z' }
export const readNotification = { ...notification, read_at: '2026-03-03T11:31:09.870Z' }

/** A lead import: one row updates Dana, one is new, one has a bad address; `company` is not a lead field. */
export const leadImportCsv = [
  'email,first_name,last_name,company',
  `${LEAD},Dana,Whitfield-Ames,Northwind`,
  'li.chen@contoso.example,Li,Chen,Contoso',
  'not-an-address,Sam,Ortiz,Fabrikam',
  '',
].join('\r\n')

export const leadImportNdjson = [
  JSON.stringify({ email: LEAD, first_name: 'Dana', last_name: 'Whitfield-Ames' }),
  JSON.stringify({ email: 'li.chen@contoso.example', first_name: 'Li', last_name: 'Chen' }),
  JSON.stringify({ email: 'not-an-address', first_name: 'Sam', last_name: 'Ortiz' }),
  '',
].join('\n')

export const leadImportReport = {
  rows: 3,
  created: 1,
  updated: 1,
  unchanged: 0,
  failed: 1,
  suppressed: 1,
  ignored_columns: ['company'],
  errors: [{ row: 4, field: 'email', message: 'Invalid email address' }],
  errors_truncated: false,
}

/** What /dashboard polls: a small platform with one job that failed for good. */
export const operatorOverview = {
  generated_at: '2026-03-04T11:30:05.120Z',
  poll_interval_seconds: 5,
  ready: true,
  tiers: ready.tiers,
  workers: ready.workers,
  queues: queueStats,
  analytics: { as_of: '2026-03-04T11:30:03.870Z', freshness_seconds: 1.25, state: 'fresh', refresh_duration_ms: 4 },
  storage: {
    read_at: '2026-03-04T11:29:41.002Z',
    tier_bytes: { oltp: 48_513_024, content: 97_124_352, analytics: 12_951_552, queue: 30_670_848 },
    content: storage,
  },
  backups: {
    configured: true,
    newest_age_seconds: 412.5,
    sets: [{ name: 'set-2026-03-04T11-23-00.000Z', finished_at: '2026-03-04T11:23:12.604Z' }],
  },
  recent_failures: [
    {
      id: '5521874',
      queue: 'jobs',
      msg_id: '88213',
      job: 'content.expire',
      attempt: 5,
      outcome: 'dead',
      error: 'canceling statement due to statement timeout (SQLSTATE 57014, table content_objects)',
      finished_at: '2026-03-04T11:12:40.311Z',
    },
  ],
  dead_letters: {
    total: 2,
    newest: [
      {
        msg_id: '412',
        queue: 'jobs',
        job: 'content.expire',
        error: 'canceling statement due to statement timeout (SQLSTATE 57014, table content_objects)',
        failed_at: '2026-03-04T11:12:40.309Z',
        enqueued_at: '2026-03-04T11:12:40.318Z',
      },
    ],
  },
  unavailable: [],
}

const erasureCounts = {
  oltp: { messages: 6, leads: 1, users: 0, suppressions: 1, soft_bounce_streaks: 0, webhook_receipts: 0, outbox: 0, idempotency_answers: 3, audit_log: 0 },
  content: { bodies: 6, attachments: 2, attachment_blobs: 1, transactional_emails: 0, notifications: 0 },
  analytics: { events: 2 },
  queue: { queued: 0, archived: 4, dead_letters: 1, job_logs: 1 },
}
const noCounts = Object.fromEntries(Object.entries(erasureCounts).map(([tier, c]) => [tier, Object.fromEntries(Object.keys(c).map((k) => [k, 0]))]))

/** A person's erasure, as accepted and as completed. */
export const erasureRequest = {
  id: '019cb52a-0d6e-7b4f-a1c9-3e8f2d7b6a10',
  status: 'pending',
  requested_at: '2026-03-07T08:40:12.004Z',
  completed_at: null,
  email_sha256: 'c0a2f6f1d5b7e8a94c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b',
  lead_id: ID.lead,
  tiers: noCounts,
}
export const erasureCompleted = { ...erasureRequest, status: 'completed', completed_at: '2026-03-07T08:40:15.918Z', tiers: erasureCounts }

/** A tenant's deletion under way. */
export const tenantDeletion = {
  id: '019cb5f3-77a2-7c18-b0e4-5d2c9a8f1e37',
  tenant_id: ID.tenant,
  status: 'running',
  requested_at: '2026-03-09T17:02:44.126Z',
  completed_at: null,
  tiers: { oltp: {}, content: {}, analytics: { events: 18240, rollup_daily: 1312 }, queue: { archived: 96 } },
}
export const suspendedTenant = { ...tenant, status: 'suspended' }

/** An audit entry (GET /v1/audit-log). */
export const auditEntry = {
  id: '18342',
  tenant_id: ID.tenant,
  actor: `api_key:${ID.apiKey}`,
  action: 'campaign.update',
  target_type: 'campaign',
  target_id: ID.campaign,
  detail: { fields: ['status'] },
  request_id: '5f0c7a4e-2f4b-4d59-9a43-3e1b7d1f0b8a',
  outcome: 'succeeded',
  created: '2026-03-04T15:02:11.906Z',
}
