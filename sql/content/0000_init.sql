CREATE SCHEMA "content";
--> statement-breakpoint
CREATE TABLE "content"."attachments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"parent_storage_key" varchar(500) NOT NULL,
	"filename" varchar(255) NOT NULL,
	"mime_type" varchar(100) NOT NULL,
	"size_bytes" integer NOT NULL,
	"content" "bytea",
	"sha256" varchar(64) NOT NULL,
	"storage_disposition" varchar(50) DEFAULT 'attachment' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "content"."content_objects" (
	"storage_key" varchar(500) PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" varchar(20) NOT NULL,
	"content_text" text,
	"content_html" text,
	"content_text_packed" "bytea",
	"content_html_packed" "bytea",
	"headers" jsonb,
	"raw_size_bytes" integer NOT NULL,
	"stored_size_bytes" integer NOT NULL,
	"compression_type" varchar(20) DEFAULT 'none' NOT NULL,
	"content_state" varchar(20) DEFAULT 'present' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"expires" timestamp with time zone,
	"archived" boolean DEFAULT false NOT NULL,
	CONSTRAINT "content_objects_compression_type" CHECK ("content"."content_objects"."compression_type" in ('none', 'gzip', 'zstd')),
	CONSTRAINT "content_objects_kind" CHECK ("content"."content_objects"."kind" in ('outbound', 'inbound', 'transactional', 'notification'))
);
--> statement-breakpoint
CREATE TABLE "content"."notifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" uuid,
	"channel" varchar(20) DEFAULT 'in_app' NOT NULL,
	"title" varchar(200) NOT NULL,
	"body" text,
	"data" jsonb,
	"read_at" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"expires" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "content"."transactional_emails" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"to_email" varchar(254) NOT NULL,
	"from_email" varchar(254) NOT NULL,
	"subject" varchar(500) NOT NULL,
	"template_key" varchar(100),
	"content_storage_key" varchar(500),
	"status" varchar(50) DEFAULT 'queued' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"expires" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD CONSTRAINT "attachments_parent_storage_key_content_objects_storage_key_fk" FOREIGN KEY ("parent_storage_key") REFERENCES "content"."content_objects"("storage_key") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content"."transactional_emails" ADD CONSTRAINT "transactional_emails_content_storage_key_content_objects_storage_key_fk" FOREIGN KEY ("content_storage_key") REFERENCES "content"."content_objects"("storage_key") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attachments_parent" ON "content"."attachments" USING btree ("parent_storage_key");--> statement-breakpoint
CREATE INDEX "content_objects_tenant_created" ON "content"."content_objects" USING btree ("tenant_id","created");--> statement-breakpoint
CREATE INDEX "content_objects_expires" ON "content"."content_objects" USING btree ("expires") WHERE "content"."content_objects"."expires" is not null and "content"."content_objects"."content_state" = 'present';--> statement-breakpoint
CREATE INDEX "notifications_tenant" ON "content"."notifications" USING btree ("tenant_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactional_emails_tenant" ON "content"."transactional_emails" USING btree ("tenant_id","id" DESC NULLS LAST);