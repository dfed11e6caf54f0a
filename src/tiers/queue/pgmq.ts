/**
 * A thin typed client over pgmq's SQL functions, on our own Db layer so a send can join the
 * caller's transaction (pgmq-js owns a separate pool and cannot). Casts pick pgmq's overloads
 * explicitly; message ids stay decimal strings because they are bigint.
 */
import type { Queryable } from '../../db/types.ts'
import { WORK_QUEUES, type QueueName } from './queues.ts'

export type MsgId = string

export interface QueueMessage<T = unknown> {
  msg_id: MsgId
  read_ct: number
  enqueued_at: Date
  vt: Date
  message: T
}

export interface QueueMetrics {
  queue_name: string
  queue_length: string
  newest_msg_age_sec: number | null
  oldest_msg_age_sec: number | null
  total_messages: string
}

export async function send(q: Queryable, queue: string, message: unknown, delaySeconds = 0): Promise<MsgId> {
  const rows = await q.query<{ send: MsgId }>(`SELECT pgmq.send($1::text, $2::jsonb, $3::integer) AS send`, [
    queue,
    JSON.stringify(message),
    delaySeconds,
  ])
  return rows[0]!.send
}

export async function sendBatch(q: Queryable, queue: string, messages: readonly unknown[]): Promise<MsgId[]> {
  if (messages.length === 0) return []
  const rows = await q.query<{ send_batch: MsgId }>(
    `SELECT pgmq.send_batch($1::text, ARRAY(SELECT jsonb_array_elements($2::jsonb))) AS send_batch`,
    [queue, JSON.stringify(messages)],
  )
  return rows.map((r) => r.send_batch)
}

/** Reads up to qty messages and hides them for vtSeconds. Never read_with_poll: it blocks PGlite. */
export function read<T = unknown>(q: Queryable, queue: string, vtSeconds: number, qty: number): Promise<QueueMessage<T>[]> {
  return q.query<QueueMessage<T>>(
    `SELECT msg_id, read_ct, enqueued_at, vt, message FROM pgmq.read($1::text, $2::integer, $3::integer)`,
    [queue, vtSeconds, qty],
  )
}

export async function archive(q: Queryable, queue: string, msgIds: readonly MsgId[]): Promise<MsgId[]> {
  if (msgIds.length === 0) return []
  const rows = await q.query<{ archive: MsgId }>(`SELECT pgmq.archive($1::text, $2::bigint[]) AS archive`, [queue, msgIds])
  return rows.map((r) => r.archive)
}

export async function remove(q: Queryable, queue: string, msgIds: readonly MsgId[]): Promise<MsgId[]> {
  if (msgIds.length === 0) return []
  const rows = await q.query<{ delete: MsgId }>(`SELECT pgmq.delete($1::text, $2::bigint[]) AS delete`, [queue, msgIds])
  return rows.map((r) => r.delete)
}

/** Makes a message visible again after vtSeconds from now (retry backoff, lease extension). */
export async function setVt(q: Queryable, queue: string, msgId: MsgId, vtSeconds: number): Promise<void> {
  await q.query(`SELECT msg_id FROM pgmq.set_vt($1::text, $2::bigint, $3::integer)`, [queue, msgId, vtSeconds])
}

export async function metrics(q: Queryable, queue: string): Promise<QueueMetrics> {
  const rows = await q.query<QueueMetrics>(
    `SELECT queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages FROM pgmq.metrics($1::text)`,
    [queue],
  )
  return rows[0]!
}

/** The NOTIFY channel pgmq.enable_notify_insert() fires on for a queue. */
export const insertChannel = (queue: string) => `pgmq.q_${queue}.INSERT`

/**
 * Makes sure inserts into a queue NOTIFY its channel. pgmq keeps this setting in an UNLOGGED
 * table, which PostgreSQL empties after a crash and which a PGlite snapshot does not carry, so
 * a migration alone cannot be trusted to have left it on: workers check at start.
 */
export async function ensureNotifyInsert(q: Queryable, queue: string): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM pgmq.notify_insert_throttle WHERE queue_name = $1`, [queue])
  if (rows.length) return false
  await q.query(`SELECT pgmq.enable_notify_insert($1::text, 0)`, [queue])
  return true
}

/** The queue database's clock and the enqueue time of the oldest message still in a queue. */
export async function oldestPending(q: Queryable, queue: QueueName): Promise<{ now: Date; oldest: Date | null }> {
  // The table name cannot be a parameter; QueueName keeps it to our own queues.
  const [row] = await q.query<{ now: Date; oldest: Date | null }>(
    `SELECT now() AS now, (SELECT min(enqueued_at) FROM pgmq.q_${queue}) AS oldest`,
  )
  return row!
}

/** Every message id named anywhere in a queued job or event: content they name must not expire. */
export async function messageIdsInQueues(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT DISTINCT v #>> '{}' AS id
       FROM (${WORK_QUEUES.map((name) => `SELECT message FROM pgmq.q_${name}`).join(' UNION ALL ')}) pending,
            LATERAL jsonb_path_query(pending.message, 'lax $.**.message_id') v
      WHERE jsonb_typeof(v) = 'string'`,
  )
  return rows.map((r) => r.id)
}
