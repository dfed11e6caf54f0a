-- edp:no-transaction
-- Hand-written (1 of 2): the outbox and the audit log get keys that lead with tenant_id, so on
-- Citus they are distributed with the rest of a tenant's rows (src/db/distribution.ts) and a
-- message write is one shard's transaction. Statement by statement, each safe to run again.
--
-- The outbox names the tenant whose write made each row. Its default (a constant: no rewrite) is
-- for rows a process of the previous release writes during the deploy; they are relayed as usual.
ALTER TABLE "oltp"."outbox" ADD COLUMN IF NOT EXISTS "tenant_id" uuid DEFAULT '00000000-0000-0000-0000-000000000000'::uuid NOT NULL;--> statement-breakpoint
-- An operator's audit entry (no tenant) names the nil uuid instead of NULL. Existing ones are
-- changed 5,000 at a time, each batch its own transaction (the DO commits between them), as the
-- retention prune does: declared maintenance, so the append-only trigger lets them through.
DO $backfill$
DECLARE
  n integer;
BEGIN
  LOOP
    PERFORM set_config('edp.audit_maintenance', 'on', true);
    UPDATE "oltp"."audit_log" SET "tenant_id" = '00000000-0000-0000-0000-000000000000'
     WHERE "id" IN (SELECT "id" FROM "oltp"."audit_log" WHERE "tenant_id" IS NULL LIMIT 5000);
    GET DIAGNOSTICS n = ROW_COUNT;
    COMMIT;
    EXIT WHEN n = 0;
  END LOOP;
END
$backfill$;--> statement-breakpoint
-- NOT NULL without holding the table's exclusive lock for a scan: a CHECK added NOT VALID is
-- validated under a lock that lets writes go on, and SET NOT NULL then trusts it.
ALTER TABLE "oltp"."audit_log" DROP CONSTRAINT IF EXISTS "audit_log_tenant_id_not_null", ADD CONSTRAINT "audit_log_tenant_id_not_null" CHECK ("tenant_id" IS NOT NULL) NOT VALID;--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" VALIDATE CONSTRAINT "audit_log_tenant_id_not_null";--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" ALTER COLUMN "tenant_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" DROP CONSTRAINT IF EXISTS "audit_log_tenant_id_not_null";--> statement-breakpoint
-- The new keys' indexes, and the id indexes that take over the old keys' cross-tenant walks
-- (the relay's claim on one server; the operator's listing and the retention prune).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "outbox_tenant_key" ON "oltp"."outbox" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "outbox_id" ON "oltp"."outbox" USING btree ("id");--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_tenant_key" ON "oltp"."audit_log" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_id" ON "oltp"."audit_log" USING btree ("id");--> statement-breakpoint
-- The new key serves a tenant's newest-first listing by scanning backwards.
DROP INDEX CONCURRENTLY IF EXISTS "oltp"."audit_log_tenant_id";
