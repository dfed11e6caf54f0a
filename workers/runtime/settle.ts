/**
 * Writes the outcome of a batch back to the queue tier in as few round trips as possible: one
 * call archives every success and logs every attempt; retries and dead letters (rare) add theirs.
 */
import type { Db, Queryable } from '../../src/db/types.ts'
import type { DeadLetterRecord } from '../../src/tiers/queue/dead-letters.ts'
import { completeJobs, type JobOutcome } from '../../src/tiers/queue/job-logs.ts'
import { archive, sendBatch, setVt, type QueueMessage } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'

export interface Outcome {
  msg: QueueMessage
  job: string
  outcome: JobOutcome
  error: string | null
  /** Seconds until a retried message is visible again. */
  retryIn?: number
  startedAt: Date
  durationMs: number
}

export async function settle(db: Db, queue: string, workerId: string, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return
  const by = (o: JobOutcome) => outcomes.filter((x) => x.outcome === o)
  const succeeded = by('succeeded')
  const retrying = by('retrying')
  const dead = by('dead')

  for (const o of retrying) await setVt(db, queue, o.msg.msg_id, o.retryIn ?? 1)
  if (dead.length) {
    await db.transaction(async (tx: Queryable) => {
      await sendBatch(
        tx,
        QUEUES.deadLetters,
        dead.map((o): DeadLetterRecord => ({
          queue,
          msg_id: o.msg.msg_id,
          job: o.job,
          error: o.error,
          message: o.msg.message,
          failed_at: new Date().toISOString(),
        })),
      )
      await archive(tx, queue, dead.map((o) => o.msg.msg_id))
    })
  }
  await completeJobs(
    db,
    queue,
    workerId,
    succeeded.map((o) => o.msg.msg_id),
    outcomes.map((o) => ({
      msg_id: o.msg.msg_id,
      job: o.job,
      attempt: o.msg.read_ct,
      outcome: o.outcome,
      error: o.error,
      duration_ms: o.durationMs,
      started_at: o.startedAt,
    })),
  )
}
