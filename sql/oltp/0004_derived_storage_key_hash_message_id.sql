DROP INDEX "oltp"."inbox_message_refs_rfc822";--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ALTER COLUMN "content_storage_key" DROP NOT NULL;--> statement-breakpoint
-- Default keys are derived on read from now on; only a key stored elsewhere keeps its value.
UPDATE "oltp"."inbox_message_refs" SET "content_storage_key" = NULL
 WHERE "content_storage_key" = "tenant_id"::text || '/msg/' || "id"::text;--> statement-breakpoint
CREATE INDEX "inbox_message_refs_rfc822" ON "oltp"."inbox_message_refs" USING hash ("rfc822_message_id") WHERE "oltp"."inbox_message_refs"."rfc822_message_id" is not null;
