CREATE TABLE "oltp"."erasure_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" varchar(10) NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"email_sha256" char(64),
	"email" varchar(254),
	"lead_id" uuid,
	"requested_by" varchar(100) NOT NULL,
	"stage" varchar(40) NOT NULL,
	"cursor" text,
	"pending" jsonb,
	"version" integer DEFAULT 0 NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "erasure_requests_kind" CHECK ("oltp"."erasure_requests"."kind" in ('person', 'tenant')),
	CONSTRAINT "erasure_requests_status" CHECK ("oltp"."erasure_requests"."status" in ('pending', 'running', 'completed'))
);
--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" DROP CONSTRAINT "inbox_message_refs_content_state";--> statement-breakpoint
CREATE INDEX "erasure_requests_tenant" ON "oltp"."erasure_requests" USING btree ("tenant_id","id" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "erasure_requests_unfinished" ON "oltp"."erasure_requests" USING btree ("tenant_id","kind",coalesce("email_sha256", '')) WHERE "oltp"."erasure_requests"."status" <> 'completed';--> statement-breakpoint
-- Edited by hand: NOT VALID (no scan under this migration's lock); 0012 validates it in a
-- transaction of its own, which reads the table without blocking writes.
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_content_state" CHECK ("oltp"."inbox_message_refs"."content_state" in ('present', 'expired', 'erased')) NOT VALID;--> statement-breakpoint
ALTER TABLE "oltp"."tenants" ADD CONSTRAINT "tenants_status" CHECK ("oltp"."tenants"."status" in ('active', 'suspended', 'deleting'));