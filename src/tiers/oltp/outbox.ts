import type { Queryable } from '../../db/types.ts'
import type { outbox } from './schema.ts'

/** int8 ids arrive as decimal strings from both drivers. */
export type OutboxRow = Pick<typeof outbox.$inferSelect, 'tenant_id' | 'queue' | 'payload'> & { id: string }
const RETURNED = 'tenant_id, id, queue, payload'

/** A job for the relay, in the transaction of the tenant's write that made it; returns the row. */
export async function insertOutbox(q: Queryable, tenantId: string, queue: string, payload: unknown): Promise<OutboxRow> {
  const [row] = await insertOutboxRows(q, queue, [{ tenantId, payload }])
  return row!
}

/**
 * Several jobs for one queue in one statement (a group commit's message.created jobs), each with
 * its tenant. A multi-row VALUES, not INSERT … SELECT FROM unnest: Citus routes each row to its
 * shard directly, where the SELECT form goes through the coordinator (230 ms a group of 7 here,
 * with RETURNING). One statement text per group size, so each size is prepared once.
 */
export function insertOutboxRows(q: Queryable, queue: string, rows: readonly { tenantId: string; payload: unknown }[]): Promise<OutboxRow[]> {
  const params: unknown[] = [queue]
  const p = (v: unknown) => `$${params.push(v)}`
  const values = rows.map((r) => `(${p(r.tenantId)}::uuid, $1, ${p(JSON.stringify(r.payload))}::jsonb)`)
  return q.query<OutboxRow>(`INSERT INTO oltp.outbox (tenant_id, queue, payload) VALUES ${values.join(', ')} RETURNING ${RETURNED}`, params)
}

const UNCLAIMED = `(claimed_until IS NULL OR claimed_until < now())`

/**
 * Leases the oldest unclaimed rows of every tenant for leaseSeconds and commits at once, so no
 * lock is held while the relay talks to the queue database. A relay that dies leaves rows that
 * reappear when the lease runs out. One server only: on Citus a row lock cannot span shards
 * (claimTenantOutbox there).
 */
export function claimOutbox(q: Queryable, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `UPDATE oltp.outbox SET claimed_until = now() + make_interval(secs => $2)
      WHERE id IN (SELECT id FROM oltp.outbox WHERE ${UNCLAIMED} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING ${RETURNED}`,
    [limit, leaseSeconds],
  )
}

/** The tenants with unclaimed rows, the longest waiting first: a cluster's relay claims each in turn. */
export async function tenantsWaitingInOutbox(q: Queryable, limit: number): Promise<string[]> {
  const rows = await q.query<{ tenant_id: string }>(
    `SELECT tenant_id FROM oltp.outbox WHERE ${UNCLAIMED} GROUP BY tenant_id ORDER BY min(id) LIMIT $1`,
    [limit],
  )
  return rows.map((r) => r.tenant_id)
}

/** claimOutbox within one tenant's rows: on Citus a statement routed to that tenant's shard. */
export function claimTenantOutbox(q: Queryable, tenantId: string, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `UPDATE oltp.outbox SET claimed_until = now() + make_interval(secs => $3)
      WHERE tenant_id = $1
        AND id IN (SELECT id FROM oltp.outbox WHERE tenant_id = $1 AND ${UNCLAIMED} ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${RETURNED}`,
    [tenantId, limit, leaseSeconds],
  )
}

/** Removes sent rows; naming their tenants keeps the statement to their shards on Citus. */
export async function deleteOutbox(q: Queryable, rows: readonly Pick<OutboxRow, 'tenant_id' | 'id'>[]): Promise<void> {
  if (rows.length === 0) return
  const tenants = [...new Set(rows.map((r) => r.tenant_id))]
  await q.query(`DELETE FROM oltp.outbox WHERE tenant_id = ANY($1::uuid[]) AND id = ANY($2::bigint[])`, [tenants, rows.map((r) => r.id)])
}

export async function countOutbox(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.outbox`)
  return Number(rows[0]!.n)
}

/** When the oldest row was written: the tenant's (one shard on Citus), or without one, any tenant's. */
export async function oldestOutboxRow(q: Queryable, tenantId?: string): Promise<Date | null> {
  const rows =
    tenantId === undefined
      ? await q.query<{ oldest: Date | null }>(`SELECT min(created) AS oldest FROM oltp.outbox`)
      : await q.query<{ oldest: Date | null }>(`SELECT min(created) AS oldest FROM oltp.outbox WHERE tenant_id = $1`, [tenantId])
  return rows[0]?.oldest ?? null
}

/**
 * Outbox rows older than `olderThan` (counted up to `cap`), and the oldest one's date. The relay
 * deletes what it sent, so an old row was never relayed: a relay that is down, or a row it cannot
 * send. Reported, never deleted: it is a job that has not run.
 */
export async function staleOutbox(q: Queryable, olderThan: Date, cap: number): Promise<{ stale: number; oldest: Date | null }> {
  const [r] = await q.query<{ stale: number; oldest: Date | null }>(
    `SELECT count(*)::int AS stale, min(created) AS oldest
       FROM (SELECT created FROM oltp.outbox WHERE created < $1 ORDER BY created LIMIT $2) s`,
    [olderThan, cap],
  )
  return r!
}
