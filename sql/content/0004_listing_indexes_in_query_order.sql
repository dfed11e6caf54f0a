DROP INDEX "content"."notifications_tenant";--> statement-breakpoint
DROP INDEX "content"."transactional_emails_tenant";--> statement-breakpoint
CREATE INDEX "notifications_tenant" ON "content"."notifications" USING btree ("tenant_id","id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactional_emails_tenant" ON "content"."transactional_emails" USING btree ("tenant_id","id" DESC NULLS FIRST);