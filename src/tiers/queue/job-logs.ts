import type { Queryable } from '../../db/types.ts'

export type JobOutcome = 'succeeded' | 'retrying' | 'dead'

export interface JobLog {
  queue: string
  msg_id: string
  job: string
  attempt: number
  outcome: JobOutcome
  error: string | null
  duration_ms: number
  worker_id: string
  started_at: Date
}

/** One statement for a whole batch of attempts. */
export async function insertJobLogs(q: Queryable, logs: readonly JobLog[]): Promise<void> {
  if (logs.length === 0) return
  const col = <K extends keyof JobLog>(k: K) => logs.map((l) => l[k])
  await q.query(
    `INSERT INTO queue.job_logs (queue, msg_id, job, attempt, outcome, error, duration_ms, worker_id, started_at)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[],
                          $9::timestamptz[])`,
    [
      col('queue'),
      col('msg_id'),
      col('job'),
      col('attempt'),
      col('outcome'),
      col('error'),
      col('duration_ms'),
      col('worker_id'),
      logs.map((l) => l.started_at.toISOString()),
    ],
  )
}

export function listJobLogs(q: Queryable, queue: string, msgId: string) {
  return q.query<JobLog>(
    `SELECT queue, msg_id, job, attempt, outcome, error, duration_ms, worker_id, started_at
       FROM queue.job_logs WHERE queue = $1 AND msg_id = $2 ORDER BY id`,
    [queue, msgId],
  )
}

/** Attempts per queue and outcome since a moment: processing and failure rates. */
export async function outcomeCountsSince(q: Queryable, since: Date) {
  const rows = await q.query<{ queue: string; outcome: JobOutcome; n: string }>(
    `SELECT queue, outcome, count(*) AS n FROM queue.job_logs WHERE finished_at >= $1 GROUP BY 1, 2`,
    [since],
  )
  return rows.map((r) => ({ ...r, n: Number(r.n) }))
}
