/**
 * The dead_letters queue, browsed and replayed by operators. Listing selects from pgmq's queue
 * table directly, since pgmq.read would hide (and count a read of) every message it shows.
 */
import type { Db, Queryable } from '../../db/types.ts'
import { QUEUES } from './queues.ts'
import { remove, send } from './pgmq.ts'

/** What the runtime writes when a message dies: where it came from, why, and the message itself. */
export interface DeadLetterRecord {
  queue: string
  msg_id: string
  job: string
  error: string | null
  message: unknown
  failed_at: string
}

export interface DeadLetter {
  msg_id: string
  enqueued_at: Date
  message: DeadLetterRecord
}

/** Oldest first, after a message id; only the filters given go into the SQL (see src/db/keyset.ts). */
export function listDeadLetters(q: Queryable, opts: { queue?: string; limit: number; afterId?: string }): Promise<DeadLetter[]> {
  const params: unknown[] = [opts.afterId ?? '0', opts.limit]
  const byQueue = opts.queue === undefined ? '' : `AND message->>'queue' = $${params.push(opts.queue)}`
  return q.query<DeadLetter>(
    `SELECT msg_id, enqueued_at, message FROM pgmq.q_${QUEUES.deadLetters}
      WHERE msg_id > $1::bigint ${byQueue} ORDER BY msg_id LIMIT $2`,
    params,
  )
}

/** The newest dead letters, newest first (by the queue's primary key), for the operator's overview. */
export function newestDeadLetters(q: Queryable, limit: number): Promise<DeadLetter[]> {
  return q.query<DeadLetter>(`SELECT msg_id, enqueued_at, message FROM pgmq.q_${QUEUES.deadLetters} ORDER BY msg_id DESC LIMIT $1`, [limit])
}

export async function getDeadLetter(q: Queryable, msgId: string): Promise<DeadLetter | undefined> {
  const rows = await q.query<DeadLetter>(`SELECT msg_id, enqueued_at, message FROM pgmq.q_${QUEUES.deadLetters} WHERE msg_id = $1`, [msgId])
  return rows[0]
}

/** Dead letters per source queue. */
export async function countDeadLetters(q: Queryable): Promise<Map<string, number>> {
  const rows = await q.query<{ queue: string; n: string }>(
    `SELECT message->>'queue' AS queue, count(*) AS n FROM pgmq.q_${QUEUES.deadLetters} GROUP BY 1`,
  )
  return new Map(rows.map((r) => [r.queue, Number(r.n)]))
}

/**
 * Puts dead letters back on the queue they came from as fresh messages (attempts start again)
 * and removes them from dead_letters, in one transaction. Returns the new message ids.
 */
export async function requeueDeadLetters(db: Db, msgIds: readonly string[]) {
  return db.transaction(async (tx) => {
    const rows = await tx.query<DeadLetter>(
      `SELECT msg_id, enqueued_at, message FROM pgmq.q_${QUEUES.deadLetters} WHERE msg_id = ANY($1::bigint[]) ORDER BY msg_id FOR UPDATE`,
      [msgIds],
    )
    const requeued: { dead_letter_id: string; queue: string; msg_id: string }[] = []
    for (const r of rows) {
      const msgId = await send(tx, r.message.queue, r.message.message)
      requeued.push({ dead_letter_id: r.msg_id, queue: r.message.queue, msg_id: msgId })
    }
    await remove(tx, QUEUES.deadLetters, rows.map((r) => r.msg_id))
    return requeued
  })
}
