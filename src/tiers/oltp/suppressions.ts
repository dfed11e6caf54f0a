/**
 * The suppression list, soft-bounce streaks and webhook receipts (src/services/suppressions.ts
 * decides). An erased person's suppression holds the hash of the address instead of the address
 * (src/redaction.ts), so every lookup by address matches either form: erasure never lets the
 * platform mail the person again.
 */
import { keysetList } from '../../db/keyset.ts'
import { plusDaysSql } from '../../db/sql-time.ts'
import { pruneOldestByTime, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'
import { erasedAddress, erasedAddressSql } from '../../redaction.ts'
import { selectList } from '../columns.ts'
import { suppressions } from './schema.ts'

/** SQL: the row of the tenant for an address (a normalized text expression), as listed or as erased. */
export const listedAs = (expr: string) => `email IN (${expr}, ${erasedAddressSql(expr)})`

export type SuppressionRow = typeof suppressions.$inferSelect

const COLUMNS = selectList(suppressions)

export interface NewSuppression {
  tenantId: string
  id: string
  /** Lowercased by the caller. */
  email: string
  reason: string
  bounceReason: string | null
  source: string
  sourceMessageId: string | null
  note: string | null
}

/**
 * Adds the addresses; one already listed (or listed under its erased pseudonym) keeps its first
 * reason and date. Returns the rows added. Each tenant's addresses are checked first, then
 * inserted: on a cluster an INSERT cannot look at the table it fills through a subquery.
 */
export async function insertSuppressions(q: Queryable, rows: readonly NewSuppression[]): Promise<SuppressionRow[]> {
  const added: SuppressionRow[] = []
  for (const [tenantId, mine] of Map.groupBy(rows, (r) => r.tenantId)) {
    const listed = await suppressedAmong(q, tenantId, mine.map((r) => r.email))
    const fresh = mine.filter((r) => !listed.has(r.email))
    if (fresh.length === 0) continue
    added.push(
      ...(await q.query<SuppressionRow>(
        `INSERT INTO oltp.suppressions (tenant_id, id, email, reason, bounce_reason, source, source_message_id, note)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id uuid, id uuid, email text, reason text, bounce_reason text,
                                                          source text, source_message_id uuid, note text)
         ORDER BY email
         ON CONFLICT (tenant_id, email) DO NOTHING RETURNING ${COLUMNS}`,
        [
          JSON.stringify(
            fresh.map((r) => ({
              tenant_id: r.tenantId,
              id: r.id,
              email: r.email,
              reason: r.reason,
              bounce_reason: r.bounceReason,
              source: r.source,
              source_message_id: r.sourceMessageId,
              note: r.note,
            })),
          ),
        ],
      )),
    )
  }
  return added
}

export async function findSuppression(q: Queryable, tenantId: string, email: string): Promise<SuppressionRow | undefined> {
  const rows = await q.query<SuppressionRow>(
    `SELECT ${COLUMNS} FROM oltp.suppressions WHERE tenant_id = $1 AND ${listedAs('$2::text')} ORDER BY email = $2 DESC LIMIT 1`,
    [tenantId, email],
  )
  return rows[0]
}

/** Which of these addresses (lowercased) the tenant has suppressed, as given or by their erased pseudonym. */
export async function suppressedAmong(q: Queryable, tenantId: string, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set()
  const byListed = new Map<string, string>()
  for (const e of emails) {
    byListed.set(e, e)
    byListed.set(erasedAddress(e), e)
  }
  const rows = await q.query<{ email: string }>(`SELECT email FROM oltp.suppressions WHERE tenant_id = $1 AND email = ANY($2::text[])`, [
    tenantId,
    [...byListed.keys()],
  ])
  return new Set(rows.map((r) => byListed.get(r.email)!))
}

/** Deletes the address and its soft-bounce streak; false when it was not listed. */
export async function deleteSuppression(q: Queryable, tenantId: string, email: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `WITH streak AS (DELETE FROM oltp.soft_bounce_streaks WHERE tenant_id = $1 AND email = $2)
     DELETE FROM oltp.suppressions WHERE tenant_id = $1 AND ${listedAs('$2::text')} RETURNING id`,
    [tenantId, email],
  )
  return rows.length > 0
}

export function listSuppressions(q: Queryable, tenantId: string, page: { limit: number; before?: string }, reason?: string) {
  const byReason = reason === undefined ? undefined : { sql: (p: string) => `reason = ${p}`, value: reason }
  return keysetList<SuppressionRow>(q, { from: 'oltp.suppressions', select: COLUMNS, tenantId, where: [byReason], ...page })
}

/**
 * Counts one soft bounce per address: a streak whose first bounce is older than the window starts
 * over. Returns each address's count after this one, in the order given.
 */
export async function countSoftBounces(q: Queryable, tenantId: string, emails: readonly string[], windowDays: number) {
  if (emails.length === 0) return new Map<string, number>()
  // From the time this statement stamps (the new row's last_at is now()), back the window. The days
  // are written into the text, not passed: Citus runs an INSERT … SELECT's DO UPDATE on the workers
  // without the parameters' types. A whole number from the configuration, never from a request.
  if (!Number.isSafeInteger(windowDays)) throw new RangeError(`windowDays must be an integer, not ${windowDays}`)
  const windowStart = plusDaysSql('excluded.last_at', String(-windowDays))
  const rows = await q.query<{ email: string; count: number }>(
    `INSERT INTO oltp.soft_bounce_streaks AS s (tenant_id, email, count, first_at, last_at)
     SELECT $1::uuid, e, 1, now(), now() FROM unnest($2::text[]) AS e ORDER BY e
     ON CONFLICT (tenant_id, email) DO UPDATE
       SET count = CASE WHEN s.first_at < ${windowStart} THEN 1 ELSE s.count + 1 END,
           first_at = CASE WHEN s.first_at < ${windowStart} THEN excluded.first_at ELSE s.first_at END,
           last_at = excluded.last_at
     RETURNING email, count`,
    [tenantId, [...new Set(emails)]],
  )
  return new Map(rows.map((r) => [r.email, Number(r.count)]))
}

/** A delivery to, or a reply from, the address ends its streak. */
export async function endSoftBounceStreaks(q: Queryable, tenantId: string, emails: readonly string[]): Promise<void> {
  if (emails.length === 0) return
  await q.query(`DELETE FROM oltp.soft_bounce_streaks WHERE tenant_id = $1 AND email = ANY($2::text[])`, [tenantId, [...emails]])
}

/** Records provider event ids; returns the ones not seen before (the ones to apply). */
export async function firstReceipts(q: Queryable, tenantId: string, provider: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set()
  const rows = await q.query<{ event_id: string }>(
    `INSERT INTO oltp.webhook_receipts (tenant_id, provider, event_id)
     SELECT $1, $2, e FROM unnest($3::text[]) AS e ORDER BY e
     ON CONFLICT DO NOTHING RETURNING event_id`,
    [tenantId, provider, [...new Set(eventIds)]],
  )
  return new Set(rows.map((r) => r.event_id))
}

/** Forgets receipts received before the cutoff, oldest first, at most `limit` (src/services/prune.ts). */
export const pruneWebhookReceipts = (q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  pruneOldestByTime(q, { table: 'oltp.webhook_receipts', timeColumn: 'created', key: ['tenant_id', 'provider', 'event_id'] }, cutoff, after, limit)

/** A provider's settings, only while the tenant is active: a suspended or deleting tenant takes no deliveries. */
export async function getWebhookSettings(q: Queryable, tenantId: string, provider: string): Promise<unknown | undefined> {
  const rows = await q.query<{ settings: unknown }>(
    `SELECT w.settings FROM oltp.webhook_settings w JOIN oltp.tenants t ON t.id = w.tenant_id AND t.status = 'active'
      WHERE w.tenant_id = $1 AND w.provider = $2`,
    [tenantId, provider],
  )
  return rows[0]?.settings
}

export async function putWebhookSettings(q: Queryable, tenantId: string, provider: string, settings: unknown): Promise<void> {
  await q.query(
    `INSERT INTO oltp.webhook_settings (tenant_id, provider, settings, updated) VALUES ($1, $2, $3::jsonb, now())
     ON CONFLICT (tenant_id, provider) DO UPDATE SET settings = excluded.settings, updated = excluded.updated`,
    [tenantId, provider, JSON.stringify(settings)],
  )
}
