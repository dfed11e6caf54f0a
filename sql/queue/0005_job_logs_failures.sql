-- edp:no-transaction
-- Failed attempts only (a small share of the log): the operator overview's "newest failures" reads
-- 20 entries of it backwards instead of passing every success of the last 14 days.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "job_logs_failures" ON "queue"."job_logs" USING btree ("id") WHERE "outcome" <> 'succeeded';
