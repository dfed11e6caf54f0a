-- edp:no-transaction
-- inbox_message_refs is large: built without blocking writes (src/db/migration-safety.ts).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "inbox_message_refs_step" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","sequence_step_id") WHERE "oltp"."inbox_message_refs"."sequence_step_id" is not null;
