import type { Queryable } from '../../db/types.ts'
import type { outbox } from './schema.ts'

/** int8 ids arrive as decimal strings from both drivers. */
export type OutboxRow = Pick<typeof outbox.$inferSelect, 'queue' | 'payload'> & { id: string }

export async function insertOutbox(q: Queryable, queue: string, payload: unknown): Promise<void> {
  await q.query(`INSERT INTO oltp.outbox (queue, payload) VALUES ($1, $2::jsonb)`, [queue, JSON.stringify(payload)])
}

/** Several jobs for one queue in one statement (a group commit's message.created jobs). */
export async function insertOutboxRows(q: Queryable, queue: string, payloads: readonly unknown[]): Promise<void> {
  await q.query(`INSERT INTO oltp.outbox (queue, payload) SELECT $1, p FROM jsonb_array_elements($2::jsonb) AS p`, [queue, JSON.stringify(payloads)])
}

/**
 * Leases the oldest unclaimed rows for leaseSeconds and commits at once, so no lock is held while
 * the relay talks to the queue database. A relay that dies leaves rows that reappear when the
 * lease runs out.
 */
export function claimOutbox(q: Queryable, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `UPDATE oltp.outbox SET claimed_until = now() + make_interval(secs => $2)
      WHERE id IN (SELECT id FROM oltp.outbox WHERE claimed_until IS NULL OR claimed_until < now()
                    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, queue, payload`,
    [limit, leaseSeconds],
  )
}

export async function deleteOutbox(q: Queryable, ids: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM oltp.outbox WHERE id = ANY($1::bigint[])`, [ids])
}

export async function countOutbox(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.outbox`)
  return Number(rows[0]!.n)
}

export async function oldestOutboxRow(q: Queryable): Promise<Date | null> {
  const rows = await q.query<{ oldest: Date | null }>(`SELECT min(created) AS oldest FROM oltp.outbox`)
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
