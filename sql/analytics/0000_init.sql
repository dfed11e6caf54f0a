CREATE SCHEMA "analytics";
--> statement-breakpoint
CREATE TABLE "analytics"."events" (
	"tenant_id" uuid NOT NULL,
	"event_id" varchar(200) NOT NULL,
	"message_id" uuid NOT NULL,
	"type" varchar(32) NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"email_account_id" uuid,
	"campaign_id" uuid,
	"sequence_step_id" uuid,
	"metadata" jsonb,
	CONSTRAINT "events_tenant_id_event_id_pk" PRIMARY KEY("tenant_id","event_id")
);
--> statement-breakpoint
CREATE INDEX "events_message" ON "analytics"."events" USING btree ("tenant_id","message_id");