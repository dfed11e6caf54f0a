/**
 * Queue tier: pgmq owns its queues (schema pgmq); we own job_logs, one row per attempt.
 * The pgmq extension is installed by src/db/install-pgmq.ts (run by the migration runner) before the migrations.
 */
import { sql } from 'drizzle-orm'
import { bigint, index, integer, pgSchema, text, timestamp, varchar } from 'drizzle-orm/pg-core'

export const queue = pgSchema('queue')

export const jobLogs = queue.table(
  'job_logs',
  {
    id: bigint({ mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    queue: varchar({ length: 64 }).notNull(),
    msg_id: bigint({ mode: 'bigint' }).notNull(),
    job: varchar({ length: 100 }).notNull(),
    attempt: integer().notNull(),
    /** succeeded | retrying | dead */
    outcome: varchar({ length: 20, enum: ['succeeded', 'retrying', 'dead'] }).notNull(),
    error: text(),
    duration_ms: integer().notNull(),
    worker_id: varchar({ length: 100 }).notNull(),
    started_at: timestamp({ withTimezone: true }).notNull(),
    finished_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // BRIN on finished_at: the table is append-only in time order, so a block-range index answers
  // "the last minute" at a fraction of a btree's cost per inserted row. The partial index holds
  // failed attempts only: the dashboard's "newest failures" reads 20 entries of it, where a scan
  // of the log would pass every success of the last 14 days when failures are rare.
  (t) => [
    index('job_logs_queue_msg').on(t.queue, t.msg_id),
    index('job_logs_finished').using('brin', t.finished_at),
    index('job_logs_failures').on(t.id).where(sql`${t.outcome} <> 'succeeded'`),
  ],
)

/**
 * Periodic maintenance, claimed once per slot across every worker process: a process that moves
 * `slot` forward wins that slot and enqueues the job in the same transaction.
 */
export const schedules = queue.table('schedules', {
  name: varchar({ length: 100 }).primaryKey(),
  /** The start of the last interval whose job was enqueued. */
  slot: timestamp({ withTimezone: true }).notNull(),
  claimed_by: varchar({ length: 100 }).notNull(),
  claimed_at: timestamp({ withTimezone: true }).notNull().defaultNow(),
})
