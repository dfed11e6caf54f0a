import type { Queryable } from '../../db/types.ts'

export interface OutboxRow {
  id: string
  queue: string
  payload: unknown
}

export async function insertOutbox(q: Queryable, queue: string, payload: unknown): Promise<void> {
  await q.query(`INSERT INTO oltp.outbox (queue, payload) VALUES ($1, $2::jsonb)`, [queue, JSON.stringify(payload)])
}

/** Oldest rows first; SKIP LOCKED lets several relays drain without waiting on each other. */
export function claimOutbox(q: Queryable, limit: number): Promise<OutboxRow[]> {
  return q.query<OutboxRow>(
    `SELECT id, queue, payload FROM oltp.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  )
}

export async function deleteOutbox(q: Queryable, ids: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM oltp.outbox WHERE id = ANY($1::bigint[])`, [ids])
}

export async function countOutbox(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.outbox`)
  return Number(rows[0]!.n)
}
