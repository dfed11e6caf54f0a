DROP INDEX "oltp"."inbox_message_refs_account";--> statement-breakpoint
DROP INDEX "oltp"."inbox_message_refs_campaign";--> statement-breakpoint
DROP INDEX "oltp"."inbox_message_refs_lead";--> statement-breakpoint
CREATE INDEX "inbox_message_refs_account" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","email_account_id","id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "inbox_message_refs_campaign" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","campaign_id","id" DESC NULLS FIRST) WHERE "oltp"."inbox_message_refs"."campaign_id" is not null;--> statement-breakpoint
CREATE INDEX "inbox_message_refs_lead" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","lead_id","id" DESC NULLS FIRST) WHERE "oltp"."inbox_message_refs"."lead_id" is not null;