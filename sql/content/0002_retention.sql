CREATE TABLE "content"."retention_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"outbound_days" integer,
	"inbound_days" integer,
	"transactional_days" integer,
	"notification_days" integer,
	"attachments_days" integer,
	"archive_after_days" integer,
	"updated" timestamp with time zone DEFAULT now() NOT NULL
);
