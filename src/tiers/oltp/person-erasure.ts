/**
 * A person's erasure in the OLTP tier (src/services/erasure/person.ts decides the order). Scans
 * read a bounded window of the tenant's rows by primary key and return the ones that name the
 * person, so no statement walks a whole tenant; writes take ids and are safe to repeat.
 */
import { scanWindow } from '../../db/scan-window.ts'
import type { Queryable } from '../../db/types.ts'
import { allowAuditMaintenance } from './audit-log.ts'
import { sha256Hex } from '../../ids.ts'
import { ERASED, erasedAddress, type Matcher } from '../../redaction.ts'
import { messageKeySql } from '../../storage-keys.ts'

/**
 * The refs among the tenant's next `limit` (by id) whose sender or recipient is the address, or
 * that the person's lead links; with the storage key of their content.
 */
export function refsNamingWindow(q: Queryable, tenantId: string, m: Matcher, leadId: string | null, afterId: string, limit: number) {
  return scanWindow<{ id: string; content_storage_key: string }>(
    q,
    `WITH win AS (
       SELECT id, lead_id, from_email, to_email, coalesce(content_storage_key, ${messageKeySql('tenant_id', 'id')}) AS content_storage_key
         FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id > $2::uuid ORDER BY id LIMIT $3)
     SELECT (SELECT id::text FROM win ORDER BY id DESC LIMIT 1) AS last, w.id, w.content_storage_key
       FROM (SELECT 1) one
       LEFT JOIN win w ON w.lead_id = $4::uuid OR w.from_email ~* $5 OR w.to_email ~* $5`,
    [tenantId, afterId, limit, leadId, m.pattern],
    'id',
  )
}

/**
 * Erases refs in place: ids, dates, links (but the lead's) and status stay, so threads and counts
 * stay whole; the subject and any address field naming the person become ERASED, a Message-ID
 * naming them its hash, and the content is marked erased (reads answer 410). Safe to repeat.
 */
export async function eraseRefs(tx: Queryable, tenantId: string, ids: readonly string[], m: Matcher): Promise<number> {
  if (ids.length === 0) return 0
  // The Message-IDs naming the person, hashed here: on a cluster an UPDATE may compute only
  // IMMUTABLE functions from a column, and turning text into bytes to hash is not one.
  const named = (
    await tx.query<{ rfc822_message_id: string }>(
      `SELECT DISTINCT rfc822_message_id FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND rfc822_message_id ~* $3`,
      [tenantId, ids, m.pattern],
    )
  ).map((r) => r.rfc822_message_id)
  const rows = await tx.query(
    `UPDATE oltp.inbox_message_refs
        SET from_email = CASE WHEN from_email ~* $3 THEN $4 ELSE from_email END,
            to_email = CASE WHEN to_email ~* $3 THEN $4 ELSE to_email END,
            subject = $4,
            rfc822_message_id = coalesce(($6::text[])[array_position($5::text[], rfc822_message_id::text)], rfc822_message_id),
            lead_id = NULL, content_state = 'erased', updated = now()
      WHERE tenant_id = $1 AND id = ANY($2::uuid[]) RETURNING id`,
    [tenantId, ids, m.pattern, ERASED, named, named.map((id) => `<${sha256Hex(id)}@erased.invalid>`)],
  )
  return rows.length
}

/** Which of these message ids the tenant has (content found by a scan may be an orphan's). */
export async function knownRefs(q: Queryable, tenantId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await q.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids])
  return rows.map((r) => r.id)
}

/** The tenant's lead with this (normalized) address. */
export async function leadIdByEmail(q: Queryable, tenantId: string, email: string): Promise<string | undefined> {
  const rows = await q.query<{ id: string }>(`SELECT id FROM oltp.leads WHERE tenant_id = $1 AND lower(email) = $2`, [tenantId, email])
  return rows[0]?.id
}

/** Deletes the person's lead, unlinking any ref that still names it first. Returns the leads deleted. */
export async function deleteLeadOf(tx: Queryable, tenantId: string, email: string, leadId: string | null): Promise<number> {
  const where = `tenant_id = $1 AND (lower(email) = $2 OR id = $3::uuid)`
  await tx.query(
    `UPDATE oltp.inbox_message_refs SET lead_id = NULL, updated = now()
      WHERE tenant_id = $1 AND lead_id IN (SELECT id FROM oltp.leads WHERE ${where})`,
    [tenantId, email, leadId],
  )
  return (await tx.query(`DELETE FROM oltp.leads WHERE ${where} RETURNING id`, [tenantId, email, leadId])).length
}

/** The tenant's users with this address (people who used the tenant's account). */
export async function deleteUsersOf(tx: Queryable, tenantId: string, email: string): Promise<number> {
  return (await tx.query(`DELETE FROM oltp.users WHERE tenant_id = $1 AND lower(email) = $2 RETURNING id`, [tenantId, email])).length
}

/**
 * Keeps the person's suppression working without the address: it becomes its hash
 * (erasedAddress), which the suppression checks compare too. A note naming them is cleared.
 * A hashed row already there (an earlier erasure) absorbs the plain one. Returns the rows changed.
 */
export async function hashSuppression(tx: Queryable, tenantId: string, email: string, m: Matcher): Promise<number> {
  const hashed = erasedAddress(email)
  const absorbed = await tx.query(
    `DELETE FROM oltp.suppressions WHERE tenant_id = $1 AND email = $2
        AND EXISTS (SELECT 1 FROM oltp.suppressions WHERE tenant_id = $1 AND email = $3) RETURNING id`,
    [tenantId, email, hashed],
  )
  const hashedNow = await tx.query(
    `UPDATE oltp.suppressions SET email = $4, note = CASE WHEN note ~* $3 THEN NULL ELSE note END
      WHERE tenant_id = $1 AND email = $2 RETURNING id`,
    [tenantId, email, m.pattern, hashed],
  )
  const notes = await tx.query(`UPDATE oltp.suppressions SET note = NULL WHERE tenant_id = $1 AND note ~* $2 RETURNING id`, [tenantId, m.pattern])
  return absorbed.length + hashedNow.length + notes.length
}

/** The soft-bounce streak of the address: a count toward suppression, with the address as its key. */
export async function deleteStreak(tx: Queryable, tenantId: string, email: string): Promise<number> {
  return (await tx.query(`DELETE FROM oltp.soft_bounce_streaks WHERE tenant_id = $1 AND email = $2 RETURNING email`, [tenantId, email])).length
}

/** Provider event ids that carry the address: the receipt holds nothing else, so it goes. */
export async function deleteReceiptsNaming(tx: Queryable, tenantId: string, m: Matcher): Promise<number> {
  const rows = await tx.query(`DELETE FROM oltp.webhook_receipts WHERE tenant_id = $1 AND event_id ~* $2 RETURNING event_id`, [tenantId, m.pattern])
  return rows.length
}

/**
 * Outbox rows of the tenant (jobs not yet relayed to the queue) that name the person; `claimed`
 * ones are being relayed right now. The relay deletes what it sends, so the table stays small.
 */
export function outboxNaming(q: Queryable, tenantId: string, m: Matcher) {
  return q.query<{ id: string; claimed: boolean }>(
    `SELECT id, coalesce(claimed_until > now(), false) AS claimed FROM oltp.outbox
      WHERE tenant_id = $1 AND payload::text ~* $2 ORDER BY id`,
    [tenantId, m.pattern],
  )
}

/** Replaces the person's address in outbox payloads (the job still runs, without it); unclaimed rows only. */
export async function redactOutbox(tx: Queryable, tenantId: string, ids: readonly string[], m: Matcher): Promise<number> {
  if (ids.length === 0) return 0
  const rows = await tx.query(
    `UPDATE oltp.outbox SET payload = regexp_replace(payload::text, $3, $4, 'gi')::jsonb
      WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND (claimed_until IS NULL OR claimed_until <= now()) RETURNING id`,
    [tenantId, ids, m.pattern, ERASED],
  )
  return rows.length
}

/**
 * The tenant's Idempotency-Keys among the next `limit` (by key) whose answer was kept before
 * `before`. Answers are sealed under the client's key, so nothing here can read which ones name
 * the person: an erasure drops all of them (a retry then answers 409 instead of the body). They
 * live a day anyway.
 */
export function keptAnswersWindow(q: Queryable, tenantId: string, before: Date, afterKey: string, limit: number) {
  return scanWindow<{ key_hash: string }>(
    q,
    `WITH win AS (SELECT key_hash, response, created FROM oltp.idempotency_keys WHERE tenant_id = $1 AND key_hash > $2 ORDER BY key_hash LIMIT $3)
     SELECT (SELECT max(key_hash) FROM win)::text AS last, w.key_hash::text AS key_hash
       FROM (SELECT 1) one
       LEFT JOIN win w ON w.response IS NOT NULL AND w.created <= $4`,
    [tenantId, afterKey, limit, before],
    'key_hash',
  )
}

/** Drops these kept answers; the keys stay, so a retry is still not run twice. */
export async function dropKeptAnswers(tx: Queryable, tenantId: string, keyHashes: readonly string[]): Promise<number> {
  if (keyHashes.length === 0) return 0
  const rows = await tx.query(
    `UPDATE oltp.idempotency_keys SET response = NULL WHERE tenant_id = $1 AND key_hash = ANY($2::text[]) AND response IS NOT NULL RETURNING 1`,
    [tenantId, keyHashes],
  )
  return rows.length
}

/** The tenant's audit entries whose detail or target names the person, redacted (through the tenant's index). */
export async function redactAudit(tx: Queryable, tenantId: string, m: Matcher): Promise<number> {
  // Person erasure is one of the three paths allowed past audit_log's append-only trigger.
  await allowAuditMaintenance(tx)
  const rows = await tx.query(
    `UPDATE oltp.audit_log SET detail = regexp_replace(detail::text, $2, $3, 'gi')::jsonb,
            target_id = CASE WHEN target_id ~* $2 THEN $3 ELSE target_id END
      WHERE tenant_id = $1 AND (detail::text ~* $2 OR target_id ~* $2) RETURNING id`,
    [tenantId, m.pattern, ERASED],
  )
  return rows.length
}
