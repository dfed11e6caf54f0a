DROP INDEX "queue"."job_logs_finished";--> statement-breakpoint
CREATE INDEX "job_logs_finished" ON "queue"."job_logs" USING brin ("finished_at");