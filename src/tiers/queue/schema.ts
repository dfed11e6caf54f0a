/**
 * Queue tier: pgmq owns its queues (schema pgmq); we own job_logs, one row per attempt.
 * The pgmq extension is installed by src/tiers/queue/install-pgmq.ts before migrations run.
 */
import { bigint, index, integer, pgSchema, text, timestamp, varchar } from 'drizzle-orm/pg-core'

export const queue = pgSchema('queue')

export const jobLogs = queue.table(
  'job_logs',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    queue: varchar('queue', { length: 64 }).notNull(),
    msgId: bigint('msg_id', { mode: 'bigint' }).notNull(),
    job: varchar('job', { length: 100 }).notNull(),
    attempt: integer('attempt').notNull(),
    /** succeeded | retrying | dead */
    outcome: varchar('outcome', { length: 20 }).notNull(),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    workerId: varchar('worker_id', { length: 100 }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // BRIN on finished_at: the table is append-only in time order, so a block-range index answers
  // "the last minute" at a fraction of a btree's cost per inserted row.
  (t) => [index('job_logs_queue_msg').on(t.queue, t.msgId), index('job_logs_finished').using('brin', t.finishedAt)],
)
