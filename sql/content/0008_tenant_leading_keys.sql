-- edp:no-transaction
-- Hand-written (1 of 3): every key of the content tier leads with tenant_id, so that on Citus a
-- tenant's rows sit on one shard and every lookup is routed to it (src/db/distribution.ts). This
-- step builds the new unique indexes beside the old keys without blocking writes; 0009 swaps the
-- keys onto them in a moment's lock, 0010 validates the new foreign key and drops what they replace.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "content_objects_tenant_key" ON "content"."content_objects" USING btree ("tenant_id","storage_key");--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "attachments_tenant_id" ON "content"."attachments" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "transactional_emails_tenant_id" ON "content"."transactional_emails" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "notifications_tenant_id" ON "content"."notifications" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "attachments_tenant_parent" ON "content"."attachments" USING btree ("tenant_id","parent_storage_key");
