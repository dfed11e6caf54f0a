CREATE SCHEMA "queue";
--> statement-breakpoint
CREATE TABLE "queue"."job_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "queue"."job_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"queue" varchar(64) NOT NULL,
	"msg_id" bigint NOT NULL,
	"job" varchar(100) NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" varchar(20) NOT NULL,
	"error" text,
	"duration_ms" integer NOT NULL,
	"worker_id" varchar(100) NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "job_logs_queue_msg" ON "queue"."job_logs" USING btree ("queue","msg_id");--> statement-breakpoint
CREATE INDEX "job_logs_finished" ON "queue"."job_logs" USING btree ("finished_at");