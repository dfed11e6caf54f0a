-- edp:no-transaction
-- Hand-written (3 of 3): validates the attachments' new foreign key (a lock that lets writes go
-- on while it reads), then drops the indexes the tenant-leading keys replace. Safe to run again.
ALTER TABLE "content"."attachments" VALIDATE CONSTRAINT "attachments_parent_fk";--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "content"."attachments_parent";--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "content"."transactional_emails_tenant";--> statement-breakpoint
DROP INDEX CONCURRENTLY IF EXISTS "content"."notifications_tenant";
