/**
 * A deleted tenant's rows in the OLTP tier, a bounded batch at a time, in an order the foreign
 * keys accept: messages before what they name (mailboxes, campaigns, steps, leads), a run's
 * message map before its run. What stays is the record of the deletion: its erasure request and
 * the audit entries about that request. The tenant row goes last (src/services/erasure/tenant.ts).
 */
import type { Queryable } from '../../db/types.ts'
import { allowAuditMaintenance } from './audit-log.ts'

/** Tables deleted by tenant_id, in order (inbox_message_refs and the two with exceptions have their own functions). */
export const OLTP_TABLES = [
  'inbox_message_refs',
  'sequence_steps',
  'campaigns',
  'leads',
  'email_accounts',
  'suppressions',
  'soft_bounce_streaks',
  'webhook_receipts',
  'webhook_settings',
  'idempotency_keys',
  'users',
  'legacy_ids',
  'legacy_runs',
  'api_keys',
  'erasure_requests',
  'audit_log',
] as const
export type OltpTable = (typeof OLTP_TABLES)[number]

/** Deletes up to `limit` of the tenant's rows of the table, keeping the deletion's own records; returns how many. */
export async function deleteTenantRows(tx: Queryable, table: OltpTable, tenantId: string, keep: string, limit: number): Promise<number> {
  if (table === 'inbox_message_refs') return deleteRefs(tx, tenantId, limit)
  if (table === 'api_keys') return deleteKeys(tx, tenantId, limit)
  // Tenant deletion is one of the three paths allowed past audit_log's append-only trigger.
  if (table === 'audit_log') await allowAuditMaintenance(tx)
  const params: unknown[] = [tenantId, limit]
  const except =
    table === 'erasure_requests'
      ? `AND id <> $${params.push(keep)}::uuid`
      : table === 'audit_log'
        ? `AND (target_type IS DISTINCT FROM 'erasure_request' OR target_id IS DISTINCT FROM $${params.push(keep)}::text)`
        : ''
  // tenant_id outside too: a ctid names a row only within one table (on a cluster, one shard).
  const rows = await tx.query(
    `DELETE FROM oltp.${table} WHERE tenant_id = $1 AND ctid = ANY(ARRAY(SELECT ctid FROM oltp.${table} WHERE tenant_id = $1 ${except} LIMIT $2)) RETURNING 1`,
    params,
  )
  return rows.length
}

/** A batch of messages; replies in the tenant that point at them let go first (the thread goes too). */
async function deleteRefs(tx: Queryable, tenantId: string, limit: number): Promise<number> {
  const batch = (await tx.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1 LIMIT $2`, [tenantId, limit])).map(
    (r) => r.id,
  )
  if (batch.length === 0) return 0
  await tx.query(
    `UPDATE oltp.inbox_message_refs SET parent_message_id = NULL WHERE tenant_id = $1 AND parent_message_id = ANY($2::uuid[])`,
    [tenantId, batch],
  )
  return (await tx.query(`DELETE FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) RETURNING 1`, [tenantId, batch])).length
}

/** A batch of keys with their rate-limit buckets (which name the key, not the tenant). */
async function deleteKeys(tx: Queryable, tenantId: string, limit: number): Promise<number> {
  const ids = (await tx.query<{ id: string }>(`SELECT id FROM oltp.api_keys WHERE tenant_id = $1 LIMIT $2`, [tenantId, limit])).map((r) => r.id)
  if (ids.length === 0) return 0
  await tx.query(`DELETE FROM oltp.rate_buckets WHERE key_id = ANY($1::uuid[])`, [ids])
  return (await tx.query(`DELETE FROM oltp.api_keys WHERE id = ANY($1::uuid[]) RETURNING 1`, [ids])).length
}

/** The tenant's jobs still waiting in the outbox (not yet relayed); `claimed` ones are being relayed right now. */
export function outboxOfTenant(q: Queryable, tenantId: string) {
  return q.query<{ id: string; claimed: boolean }>(
    `SELECT id, coalesce(claimed_until > now(), false) AS claimed FROM oltp.outbox WHERE tenant_id = $1 ORDER BY id`,
    [tenantId],
  )
}

/** Deletes these outbox rows unless a relay claimed them meanwhile; returns how many. */
export async function deleteOutboxRows(tx: Queryable, tenantId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0
  const rows = await tx.query(
    `DELETE FROM oltp.outbox WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND (claimed_until IS NULL OR claimed_until <= now()) RETURNING 1`,
    [tenantId, ids],
  )
  return rows.length
}

/** The tenant row itself; what still names it goes by cascade. */
export async function deleteTenant(tx: Queryable, tenantId: string): Promise<number> {
  return (await tx.query(`DELETE FROM oltp.tenants WHERE id = $1 RETURNING 1`, [tenantId])).length
}
