CREATE TABLE "analytics"."legacy_history" (
	"run" varchar(200) NOT NULL,
	"batch_no" integer NOT NULL,
	"deltas" jsonb NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "legacy_history_run_batch_no_pk" PRIMARY KEY("run","batch_no")
);
