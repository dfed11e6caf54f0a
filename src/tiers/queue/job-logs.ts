import { pruneOldestById, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'
import type { jobLogs } from './schema.ts'

type JobLogRow = typeof jobLogs.$inferSelect

export type JobOutcome = JobLogRow['outcome']

/** One attempt as the worker reports it (msg_id is int8: a decimal string). */
export type JobLog = Pick<JobLogRow, 'queue' | 'job' | 'attempt' | 'outcome' | 'error' | 'duration_ms' | 'worker_id' | 'started_at'> & {
  msg_id: string
}

/**
 * Archives a batch's successes and logs every attempt in it, in one round trip
 * (queue.complete_jobs, sql/queue/0002_complete_jobs.sql).
 */
export async function completeJobs(
  q: Queryable,
  queue: string,
  workerId: string,
  archiveIds: readonly string[],
  logs: readonly Omit<JobLog, 'queue' | 'worker_id'>[],
): Promise<void> {
  await q.query(`SELECT queue.complete_jobs($1::text, $2::bigint[], $3::jsonb, $4::text)`, [
    queue,
    archiveIds,
    JSON.stringify(logs),
    workerId,
  ])
}

/** Attempts per queue and outcome since a moment: processing and failure rates. */
export async function outcomeCountsSince(q: Queryable, since: Date) {
  const rows = await q.query<{ queue: string; outcome: JobOutcome; n: string }>(
    `SELECT queue, outcome, count(*) AS n FROM queue.job_logs WHERE finished_at >= $1 GROUP BY 1, 2`,
    [since],
  )
  return rows.map((r) => ({ ...r, n: Number(r.n) }))
}

/** A failed attempt (retried or dead), as the operator's overview lists it. */
export type JobFailure = Pick<JobLogRow, 'queue' | 'job' | 'attempt' | 'error' | 'finished_at'> & {
  id: string
  msg_id: string
  outcome: Exclude<JobOutcome, 'succeeded'>
}

/** The newest failed attempts, newest first: a backward scan of job_logs_failures, never of the whole log. */
export function recentFailures(q: Queryable, limit: number): Promise<JobFailure[]> {
  return q.query<JobFailure>(
    `SELECT id::text AS id, queue, msg_id::text AS msg_id, job, attempt, outcome, error, finished_at
       FROM queue.job_logs WHERE outcome <> 'succeeded' ORDER BY job_logs.id DESC LIMIT $1`,
    [limit],
  )
}

/**
 * Job logs finished before `cutoff`, a bounded batch by primary key rather than through the BRIN
 * on finished_at: once deleted space is reused, a block range's summary keeps its oldest time, so
 * a BRIN scan for "older than" would match every reused range.
 */
export const pruneJobLogs = (q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  pruneOldestById(q, { table: 'queue.job_logs', timeColumn: 'finished_at' }, cutoff, after, limit)
