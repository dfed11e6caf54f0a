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

export async function insertJobLog(q: Queryable, l: JobLog): Promise<void> {
  await q.query(
    `INSERT INTO queue.job_logs (queue, msg_id, job, attempt, outcome, error, duration_ms, worker_id, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [l.queue, l.msg_id, l.job, l.attempt, l.outcome, l.error, l.duration_ms, l.worker_id, l.started_at],
  )
}

export function listJobLogs(q: Queryable, queue: string, msgId: string) {
  return q.query<JobLog>(
    `SELECT queue, msg_id, job, attempt, outcome, error, duration_ms, worker_id, started_at
       FROM queue.job_logs WHERE queue = $1 AND msg_id = $2 ORDER BY id`,
    [queue, msgId],
  )
}
