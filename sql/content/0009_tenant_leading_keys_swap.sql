-- Hand-written (2 of 3): the primary keys move onto the indexes 0008 built (no scan: the indexes
-- exist and tenant_id is NOT NULL), and the foreign keys that named storage_key alone go.
-- Attachments get theirs back as (tenant_id, parent_storage_key), NOT VALID until 0010. The
-- transactional record's key to its body gets none: Citus cannot SET NULL part of a key holding
-- the distribution column, and a record whose body is gone already reads with content null.
-- tenant_keys.key_id loses its own unique index: the key is (tenant_id), key_id a random uuid.
ALTER TABLE "content"."attachments" DROP CONSTRAINT IF EXISTS "attachments_parent_storage_key_content_objects_storage_key_fk";--> statement-breakpoint
ALTER TABLE "content"."transactional_emails" DROP CONSTRAINT IF EXISTS "transactional_emails_content_storage_key_content_objects_storag";--> statement-breakpoint
ALTER TABLE "content"."content_objects" DROP CONSTRAINT "content_objects_pkey";--> statement-breakpoint
ALTER TABLE "content"."content_objects" ADD CONSTRAINT "content_objects_pkey" PRIMARY KEY USING INDEX "content_objects_tenant_key";--> statement-breakpoint
ALTER TABLE "content"."attachments" DROP CONSTRAINT "attachments_pkey";--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD CONSTRAINT "attachments_pkey" PRIMARY KEY USING INDEX "attachments_tenant_id";--> statement-breakpoint
ALTER TABLE "content"."transactional_emails" DROP CONSTRAINT "transactional_emails_pkey";--> statement-breakpoint
ALTER TABLE "content"."transactional_emails" ADD CONSTRAINT "transactional_emails_pkey" PRIMARY KEY USING INDEX "transactional_emails_tenant_id";--> statement-breakpoint
ALTER TABLE "content"."notifications" DROP CONSTRAINT "notifications_pkey";--> statement-breakpoint
ALTER TABLE "content"."notifications" ADD CONSTRAINT "notifications_pkey" PRIMARY KEY USING INDEX "notifications_tenant_id";--> statement-breakpoint
ALTER TABLE "content"."attachments" ADD CONSTRAINT "attachments_parent_fk" FOREIGN KEY ("tenant_id","parent_storage_key") REFERENCES "content"."content_objects"("tenant_id","storage_key") ON DELETE cascade NOT VALID;--> statement-breakpoint
ALTER TABLE "content"."tenant_keys" DROP CONSTRAINT IF EXISTS "tenant_keys_key_id_unique";
