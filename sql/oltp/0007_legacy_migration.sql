CREATE TABLE "oltp"."legacy_batches" (
	"run" varchar(200) NOT NULL,
	"batch_no" integer NOT NULL,
	"first_key" varchar(100) NOT NULL,
	"last_key" varchar(100) NOT NULL,
	"rows" integer NOT NULL,
	"expired" integer NOT NULL,
	"dated" boolean DEFAULT false NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "legacy_batches_run_batch_no_pk" PRIMARY KEY("run","batch_no")
);
--> statement-breakpoint
CREATE TABLE "oltp"."legacy_ids" (
	"run" varchar(200) NOT NULL,
	"legacy_id" varchar(100) NOT NULL,
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"batch_no" integer NOT NULL,
	"parent_legacy_id" varchar(100),
	CONSTRAINT "legacy_ids_run_legacy_id_pk" PRIMARY KEY("run","legacy_id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."legacy_runs" (
	"name" varchar(200) PRIMARY KEY NOT NULL,
	"source" varchar(500) NOT NULL,
	"mapping" jsonb NOT NULL,
	"tenant_id" uuid,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oltp"."legacy_batches" ADD CONSTRAINT "legacy_batches_run_legacy_runs_name_fk" FOREIGN KEY ("run") REFERENCES "oltp"."legacy_runs"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."legacy_ids" ADD CONSTRAINT "legacy_ids_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."legacy_ids" ADD CONSTRAINT "legacy_ids_run_batch_no_legacy_batches_run_batch_no_fk" FOREIGN KEY ("run","batch_no") REFERENCES "oltp"."legacy_batches"("run","batch_no") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "legacy_ids_message" ON "oltp"."legacy_ids" USING btree ("tenant_id","message_id");--> statement-breakpoint
CREATE INDEX "legacy_ids_batch" ON "oltp"."legacy_ids" USING btree ("run","batch_no");--> statement-breakpoint
CREATE INDEX "legacy_ids_pending_parent" ON "oltp"."legacy_ids" USING btree ("run","parent_legacy_id") WHERE "oltp"."legacy_ids"."parent_legacy_id" is not null;