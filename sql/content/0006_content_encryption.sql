CREATE TABLE "content"."tenant_keys" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"key_id" uuid NOT NULL,
	"wrapped_key" "bytea",
	"master_fingerprint" varchar(16),
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"rewrapped" timestamp with time zone,
	"destroyed_at" timestamp with time zone,
	CONSTRAINT "tenant_keys_key_id_unique" UNIQUE("key_id")
);
--> statement-breakpoint
ALTER TABLE "content"."attachment_blobs" ADD COLUMN "key_id" uuid;--> statement-breakpoint
ALTER TABLE "content"."attachment_blobs" ADD COLUMN "nonce" "bytea";--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD COLUMN "key_id" uuid;--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD COLUMN "nonce" "bytea";--> statement-breakpoint
ALTER TABLE "content"."content_objects" ADD COLUMN "key_id" uuid;--> statement-breakpoint
ALTER TABLE "content"."content_objects" ADD COLUMN "nonce" "bytea";--> statement-breakpoint
ALTER TABLE "content"."content_objects" ADD COLUMN "headers_sealed" "bytea";--> statement-breakpoint
-- Hand-written: sealed headers are ciphertext, which no compression shrinks; keep TOAST from trying.
ALTER TABLE "content"."content_objects" ALTER COLUMN "headers_sealed" SET STORAGE EXTERNAL;
