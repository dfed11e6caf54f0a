CREATE TABLE "content"."attachment_blobs" (
	"tenant_id" uuid NOT NULL,
	"sha256" char(64) NOT NULL,
	"size_bytes" integer NOT NULL,
	"content" "bytea" NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "attachment_blobs_tenant_id_sha256_pk" PRIMARY KEY("tenant_id","sha256")
);
--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD COLUMN "blob_sha256" char(64);--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD CONSTRAINT "attachments_tenant_id_blob_sha256_attachment_blobs_tenant_id_sha256_fk" FOREIGN KEY ("tenant_id","blob_sha256") REFERENCES "content"."attachment_blobs"("tenant_id","sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attachments_blob" ON "content"."attachments" USING btree ("tenant_id","blob_sha256") WHERE "content"."attachments"."blob_sha256" is not null;--> statement-breakpoint
-- Hand-written: blob bytes are mostly already-compressed files (PDF, images); keep TOAST from trying again.
ALTER TABLE "content"."attachment_blobs" ALTER COLUMN "content" SET STORAGE EXTERNAL;
