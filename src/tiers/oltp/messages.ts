import { inSlices } from '../../db/multi-row.ts'
import type { Queryable } from '../../db/types.ts'
import { equals, keysetList } from '../../db/keyset.ts'
import { messageKey, messageKeySql } from '../../storage-keys.ts'
import { selectList } from '../columns.ts'
import { listedAs } from './suppressions.ts'
import { inboxMessageRefs } from './schema.ts'

type StoredRef = typeof inboxMessageRefs.$inferSelect

/** A ref as every query returns it: its storage key always present (derived when not stored). */
export type MessageRefRow = Omit<StoredRef, 'content_storage_key'> & { content_storage_key: string }

export type NewMessageRef = Omit<MessageRefRow, 'processed' | 'content_state' | 'created' | 'updated'>

/** What a ref copies unchanged from the message it is made of (an API write, a migrated legacy row). */
export type MessageFields = Pick<
  NewMessageRef,
  'campaign_id' | 'sequence_step_id' | 'lead_id' | 'direction' | 'message_type' | 'from_email' | 'to_email' | 'subject' | 'status' | 'rfc822_message_id'
>

/** A ref: its own ids and links, and the message's fields. */
export function newMessageRef(
  own: Pick<NewMessageRef, 'id' | 'tenant_id' | 'email_account_id' | 'parent_message_id' | 'content_storage_key'>,
  m: MessageFields,
): NewMessageRef {
  return {
    ...own,
    campaign_id: m.campaign_id,
    sequence_step_id: m.sequence_step_id,
    lead_id: m.lead_id,
    direction: m.direction,
    message_type: m.message_type,
    from_email: m.from_email,
    to_email: m.to_email,
    subject: m.subject,
    status: m.status,
    rfc822_message_id: m.rfc822_message_id,
  }
}

/**
 * The ref's columns, with a table alias for queries that join. The storage key is stored only
 * when it is not the default one derived from the ids: 79 bytes a row otherwise.
 */
function columns(alias?: string) {
  const a = alias ? `${alias}.` : ''
  const key = `coalesce(${a}content_storage_key, ${messageKeySql(`${a}tenant_id`, `${a}id`)}) AS content_storage_key`
  return `${selectList(inboxMessageRefs, { except: ['content_storage_key'], alias })}, ${key}`
}
const COLUMNS = columns()

/**
 * Inserts a ref; undefined when the tenant already stored this inbound Message-ID. The conflict
 * target is the partial unique index inbox_message_refs_inbound_once (sql/oltp/0006), so racing
 * redeliveries wait for the first and then insert nothing, instead of failing or storing twice.
 */
export async function insertMessageRef(q: Queryable, r: NewMessageRef, { created }: { created?: Date } = {}): Promise<MessageRefRow | undefined> {
  const [row] = await insertMessageRefs(q, [{ ...r, created }])
  return row
}

/**
 * Several refs in one multi-row statement (a group commit's, a batch's): one protocol message and
 * one executor start however many, and on Citus each row routed to its shard. In order, each the
 * row stored or undefined where insertMessageRef would answer undefined (a later row repeating an
 * inbound Message-ID of an earlier one included). One statement text per count.
 */
export async function insertMessageRefs(q: Queryable, refs: readonly (NewMessageRef & { created?: Date })[]): Promise<(MessageRefRow | undefined)[]> {
  const stored = new Map<string, MessageRefRow>()
  for (const slice of inSlices(refs)) {
    const params: unknown[] = []
    const p = (v: unknown) => `$${params.push(v)}`
    const values = slice.map((r) => {
      const cols = [
        r.id,
        r.tenant_id,
        r.email_account_id,
        r.campaign_id,
        r.sequence_step_id,
        r.lead_id,
        r.parent_message_id,
        r.direction,
        r.message_type,
        r.from_email,
        r.to_email,
        r.subject,
        r.status,
        r.content_storage_key === messageKey(r.tenant_id, r.id) ? null : r.content_storage_key,
        r.rfc822_message_id,
      ].map(p)
      // A migrated message keeps its original date; a new one is dated by the database.
      return `(${cols.join(', ')}, coalesce(${p(r.created ?? null)}::timestamptz, now()))`
    })
    const rows = await q.query<MessageRefRow>(
      `INSERT INTO oltp.inbox_message_refs (id, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id,
         parent_message_id, direction, message_type, from_email, to_email, subject, status, content_storage_key,
         rfc822_message_id, created)
       VALUES ${values.join(', ')}
       ON CONFLICT (tenant_id, md5(rfc822_message_id)) WHERE direction = 'inbound' AND rfc822_message_id IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      params,
    )
    for (const r of rows) stored.set(r.id, r)
  }
  return refs.map((r) => stored.get(r.id))
}

/** The tenant's inbound ref with this Message-ID, found through the index that keeps it unique. */
export async function findInboundByRfc822Id(q: Queryable, tenantId: string, rfc822Id: string): Promise<MessageRefRow | undefined> {
  const rows = await q.query<MessageRefRow>(
    `SELECT ${COLUMNS} FROM oltp.inbox_message_refs
      WHERE tenant_id = $1 AND md5(rfc822_message_id) = md5($2) AND rfc822_message_id = $2
        AND direction = 'inbound' AND rfc822_message_id IS NOT NULL`,
    [tenantId, rfc822Id],
  )
  return rows[0]
}

/** A tenant's messages by RFC 5322 Message-ID (threading and bounce matching). */
export function findByRfc822Ids(q: Queryable, tenantId: string, ids: readonly string[]): Promise<MessageRefRow[]> {
  if (ids.length === 0) return Promise.resolve([])
  return q.query<MessageRefRow>(
    `SELECT ${COLUMNS} FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND rfc822_message_id = ANY($2::text[])`,
    [tenantId, ids],
  )
}

/** Marks an outbound message as bounced (its DSN arrived). */
export async function markBounced(q: Queryable, tenantId: string, id: string): Promise<void> {
  await q.query(
    `UPDATE oltp.inbox_message_refs SET status = 'bounced', updated = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  )
}

export async function getMessageRef(q: Queryable, tenantId: string, id: string): Promise<MessageRefRow | undefined> {
  const rows = await q.query<MessageRefRow>(
    `SELECT ${COLUMNS} FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  )
  return rows[0]
}

/** Several of a tenant's refs by id, in one statement (verification reads a batch at a time). */
export function getMessageRefs(q: Queryable, tenantId: string, ids: readonly string[]): Promise<MessageRefRow[]> {
  return q.query<MessageRefRow>(`SELECT ${COLUMNS} FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [
    tenantId,
    ids,
  ])
}

export interface MessageFilter {
  emailAccountId?: string
  campaignId?: string
  leadId?: string
  direction?: 'inbound' | 'outbound'
  before?: string
  limit: number
}

/** Newest first; the account, campaign and lead filters each have an index ending in id DESC. */
export function listMessageRefs(q: Queryable, tenantId: string, f: MessageFilter): Promise<MessageRefRow[]> {
  return keysetList<MessageRefRow>(q, {
    from: 'oltp.inbox_message_refs',
    select: COLUMNS,
    tenantId,
    where: [
      equals('email_account_id', f.emailAccountId, 'uuid'),
      equals('campaign_id', f.campaignId, 'uuid'),
      equals('lead_id', f.leadId, 'uuid'),
      equals('direction', f.direction, 'text'),
    ],
    before: f.before,
    limit: f.limit,
  })
}

export interface ReferenceCheck {
  email_account: boolean
  campaign: boolean
  step_campaign_id: string | null
  lead: boolean
  parent: boolean
  /** The suppression of the recipient asked about: its reason (and bounce reason), else null. */
  suppressed: { reason: string; bounce_reason: string | null } | null
}

/** The ids a new message names; a null id checks as present. */
export interface ReferenceIds {
  emailAccountId: string
  campaignId: string | null
  stepId: string | null
  leadId: string | null
  parentId: string | null
  /** Lowercased. */
  suppressionOf: string | null
}

/**
 * Checks, in one round trip, that every id a new message names belongs to the tenant, and
 * whether its recipient is suppressed; lets the write path answer 404 or 422 before it writes
 * anything. A null id checks as present; a null recipient is not looked up.
 */
export async function checkMessageReferences(q: Queryable, tenantId: string, ids: ReferenceIds): Promise<ReferenceCheck> {
  const rows = await q.query<ReferenceCheck>(
    `SELECT
       EXISTS (SELECT 1 FROM oltp.email_accounts WHERE tenant_id = $1 AND id = $2) AS email_account,
       ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM oltp.campaigns WHERE tenant_id = $1 AND id = $3)) AS campaign,
       (SELECT campaign_id FROM oltp.sequence_steps WHERE tenant_id = $1 AND id = $4) AS step_campaign_id,
       ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM oltp.leads WHERE tenant_id = $1 AND id = $5)) AS lead,
       ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = $6)) AS parent,
       (SELECT jsonb_build_object('reason', reason, 'bounce_reason', bounce_reason)
          FROM oltp.suppressions WHERE tenant_id = $1 AND ${listedAs('$7::text')} LIMIT 1) AS suppressed`,
    [tenantId, ids.emailAccountId, ids.campaignId, ids.stepId, ids.leadId, ids.parentId, ids.suppressionOf],
  )
  return rows[0]!
}

/** checkMessageReferences for a batch of messages, in one statement: one answer per message, in order. */
export async function checkMessageReferencesMany(q: Queryable, tenantId: string, list: readonly ReferenceIds[]): Promise<ReferenceCheck[]> {
  if (list.length === 0) return []
  const col = <T>(f: (r: ReferenceIds) => T) => list.map(f)
  const rows = await q.query<ReferenceCheck & { n: number }>(
    `SELECT r.n::int AS n,
       EXISTS (SELECT 1 FROM oltp.email_accounts WHERE tenant_id = $1 AND id = r.account) AS email_account,
       (r.campaign IS NULL OR EXISTS (SELECT 1 FROM oltp.campaigns WHERE tenant_id = $1 AND id = r.campaign)) AS campaign,
       (SELECT campaign_id FROM oltp.sequence_steps WHERE tenant_id = $1 AND id = r.step) AS step_campaign_id,
       (r.lead IS NULL OR EXISTS (SELECT 1 FROM oltp.leads WHERE tenant_id = $1 AND id = r.lead)) AS lead,
       (r.parent IS NULL OR EXISTS (SELECT 1 FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = r.parent)) AS parent,
       (SELECT jsonb_build_object('reason', reason, 'bounce_reason', bounce_reason)
          FROM oltp.suppressions WHERE tenant_id = $1 AND ${listedAs('r.recipient')} LIMIT 1) AS suppressed
     FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[])
          WITH ORDINALITY AS r(account, campaign, step, lead, parent, recipient, n)
     ORDER BY r.n`,
    [
      tenantId,
      col((r) => r.emailAccountId),
      col((r) => r.campaignId),
      col((r) => r.stepId),
      col((r) => r.leadId),
      col((r) => r.parentId),
      col((r) => r.suppressionOf),
    ],
  )
  return rows.map(({ n: _n, ...check }) => check)
}

/** Which of these message ids exist; the orphan check asks this in batches, by primary key. */
export async function existingMessageIds(q: Queryable, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  const rows = await q.query<{ id: string }>(
    `SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenantId, ids],
  )
  return new Set(rows.map((r) => r.id))
}

/** The conversation a message belongs to: walk up to the root, then every descendant, oldest first. */
export function getThread(q: Queryable, tenantId: string, id: string): Promise<MessageRefRow[]> {
  return q.query<MessageRefRow>(
    `WITH RECURSIVE up AS (
        SELECT id, parent_message_id, 0 AS depth FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = $2
        UNION ALL
        SELECT p.id, p.parent_message_id, up.depth + 1 FROM oltp.inbox_message_refs p
          JOIN up ON p.tenant_id = $1 AND p.id = up.parent_message_id
         WHERE up.depth < 1000
      ), root AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),
      down AS (
        SELECT r.id, 0 AS depth FROM oltp.inbox_message_refs r JOIN root ON r.tenant_id = $1 AND r.id = root.id
        UNION ALL
        SELECT c.id, down.depth + 1 FROM oltp.inbox_message_refs c
          JOIN down ON c.tenant_id = $1 AND c.parent_message_id = down.id
         WHERE down.depth < 1000
      )
      SELECT ${columns('m')} FROM oltp.inbox_message_refs m
        JOIN down ON m.tenant_id = $1 AND m.id = down.id
       ORDER BY m.id`,
    [tenantId, id],
  )
}

export type MessageDimensions = Pick<MessageRefRow, 'id' | 'email_account_id' | 'campaign_id' | 'sequence_step_id'>

/** The analytics dimensions of a tenant's messages, by id; ids not found are absent. */
export async function messageDimensions(q: Queryable, tenantId: string, ids: readonly string[]) {
  const rows = await q.query<MessageDimensions>(
    `SELECT id, email_account_id, campaign_id, sequence_step_id FROM oltp.inbox_message_refs
      WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenantId, ids],
  )
  return new Map(rows.map((r) => [r.id, r]))
}

/** Says, on the refs, that their content expired under the retention policy (an erased ref keeps saying erased). */
export async function markContentExpired(q: Queryable, tenantId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await q.query(
    `UPDATE oltp.inbox_message_refs SET content_state = 'expired', updated = now()
      WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND content_state <> 'erased'`,
    [tenantId, ids],
  )
}
