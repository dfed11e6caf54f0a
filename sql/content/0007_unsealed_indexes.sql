-- edp:no-transaction
-- Rows still in the clear, written before encryption at rest: content.encrypt_existing seals them
-- a batch at a time by these indexes, which are empty once it is done (so its scheduled runs cost
-- nothing afterwards). The tables are large: built without blocking writes, each safe to run again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "attachment_blobs_unsealed" ON "content"."attachment_blobs" USING btree ("tenant_id","sha256") WHERE "content"."attachment_blobs"."key_id" is null;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "attachments_unsealed" ON "content"."attachments" USING btree ("id") WHERE "content"."attachments"."content" is not null and "content"."attachments"."key_id" is null;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "content_objects_unsealed" ON "content"."content_objects" USING btree ("storage_key") WHERE "content"."content_objects"."key_id" is null and "content"."content_objects"."content_state" = 'present';
