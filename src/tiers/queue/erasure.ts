/**
 * Erasure in the queue tier: queued, archived and dead messages (pgmq's q_ and a_ tables of every
 * queue) and job logs that name a person or a tenant. Messages are found by a window of msg_ids
 * at a time; a message of the tenant is one whose JSON carries the tenant's id. A queued message
 * a worker may hold right now is reported `in_flight`: its handler has the old copy (and would
 * dead-letter that copy), so the erasure waits for it instead of editing under it. Held means read
 * and hidden for at most a visibility timeout (a worker extends a running handler's by that much);
 * a message hidden longer is backing off after a failure, and is edited where it waits.
 */
import { scanWindow } from '../../db/scan-window.ts'
import type { Queryable } from '../../db/types.ts'
import { ERASED, type Matcher } from '../../redaction.ts'
import { QUEUES, type QueueName } from './queues.ts'

/** One pgmq table: a queue's messages (`q_`) or its archive (`a_`). */
export interface QueueTable {
  queue: QueueName
  archive: boolean
}

/** Every table that holds messages, queued first: what a worker may still act on comes before what is done. */
export const MESSAGE_TABLES: readonly QueueTable[] = [
  { queue: QUEUES.jobs, archive: false },
  { queue: QUEUES.events, archive: false },
  { queue: QUEUES.deadLetters, archive: false },
  { queue: QUEUES.jobs, archive: true },
  { queue: QUEUES.events, archive: true },
  { queue: QUEUES.deadLetters, archive: true },
]

/** The table's name; QueueName keeps it to our own queues (a name cannot be a parameter). */
export const tableName = (t: QueueTable) => `pgmq.${t.archive ? 'a' : 'q'}_${t.queue}`

/**
 * Messages among the next `limit` by msg_id whose message or headers carry `tenantId` and match
 * the matcher (for a tenant's deletion, the matcher is the tenant id itself).
 */
export function messagesNamingWindow(
  q: Queryable,
  t: QueueTable,
  tenantId: string,
  m: Matcher,
  window: { after: string; limit: number; visibilityTimeoutS: number },
) {
  const inFlight = t.archive ? 'false' : 'w.read_ct > 0 AND w.vt > now() AND w.vt <= now() + make_interval(secs => $5)'
  return scanWindow<{ msg_id: string; in_flight: boolean }>(
    q,
    `WITH win AS (SELECT msg_id, read_ct, vt, message::text || coalesce(headers::text, '') AS body
                    FROM ${tableName(t)} WHERE msg_id > $1::bigint ORDER BY msg_id LIMIT $2)
     SELECT (SELECT max(msg_id)::text FROM win) AS last, w.msg_id::text AS msg_id, ${inFlight} AS in_flight
       FROM (SELECT 1) one
       LEFT JOIN win w ON strpos(w.body, $3) > 0 AND w.body ~* $4`,
    [window.after, window.limit, tenantId, m.pattern, ...(t.archive ? [] : [window.visibilityTimeoutS])],
    'msg_id',
  )
}

/** Replaces what the matcher finds in these messages (and their headers); the jobs still run, without it. */
export async function redactMessages(q: Queryable, t: QueueTable, msgIds: readonly string[], m: Matcher): Promise<void> {
  await q.query(
    `UPDATE ${tableName(t)}
        SET message = regexp_replace(message::text, $2, $3, 'gi')::jsonb,
            headers = CASE WHEN headers IS NULL THEN NULL ELSE regexp_replace(headers::text, $2, $3, 'gi')::jsonb END
      WHERE msg_id = ANY($1::bigint[])`,
    [msgIds, m.pattern, ERASED],
  )
}

/** Deletes these messages (a deleted tenant's: its jobs have nothing left to act on). */
export async function deleteMessages(q: Queryable, t: QueueTable, msgIds: readonly string[]): Promise<void> {
  await q.query(`DELETE FROM ${tableName(t)} WHERE msg_id = ANY($1::bigint[])`, [msgIds])
}

/**
 * Failed attempts after `afterId` (the only ones with an error), `limit` at a time, whose error
 * names what the matcher finds. Job logs name no tenant, so this looks at every tenant's.
 */
export function jobLogsNamingWindow(q: Queryable, m: Matcher, afterId: string, limit: number) {
  return scanWindow<{ id: string }>(
    q,
    `WITH win AS (SELECT id, error FROM queue.job_logs WHERE outcome <> 'succeeded' AND id > $1::bigint ORDER BY id LIMIT $2)
     SELECT (SELECT max(id)::text FROM win) AS last, w.id::text AS id
       FROM (SELECT 1) one
       LEFT JOIN win w ON strpos(lower(w.error), $4) > 0 AND w.error ~* $3`,
    [afterId, limit, m.pattern, m.needle],
    'id',
  )
}

export async function redactJobLogs(q: Queryable, ids: readonly string[], m: Matcher): Promise<void> {
  await q.query(`UPDATE queue.job_logs SET error = regexp_replace(error, $2, $3, 'gi') WHERE id = ANY($1::bigint[])`, [ids, m.pattern, ERASED])
}
