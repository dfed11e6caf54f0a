-- edp:no-transaction
-- audit_log is large: its indexes are built without blocking writes (src/db/migration-safety.ts),
-- so this migration runs statement by statement and each statement is safe to run again.
-- outcome's default is a constant: existing rows (erasure records, all succeeded) take it without a rewrite.
ALTER TABLE "oltp"."audit_log" ADD COLUMN IF NOT EXISTS "request_id" varchar(100);--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" ADD COLUMN IF NOT EXISTS "outcome" varchar(20) DEFAULT 'succeeded' NOT NULL;--> statement-breakpoint
-- Append-only: UPDATE and DELETE are refused unless the transaction declared itself one of the
-- three maintenance paths (retention pruning, tenant deletion, person-erasure redaction) with
-- set_config('edp.audit_maintenance', 'on', true); see src/tiers/oltp/audit-log.ts. In server
-- mode the API's role has no UPDATE/DELETE grant at all (README, Privacy).
CREATE OR REPLACE FUNCTION "oltp"."audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('edp.audit_maintenance', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'oltp.audit_log is append-only: % refused', TG_OP
    USING ERRCODE = '42501', HINT = 'only retention pruning, tenant deletion and person erasure change audit rows';
END
$fn$;--> statement-breakpoint
CREATE OR REPLACE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "oltp"."audit_log" FOR EACH ROW EXECUTE FUNCTION "oltp"."audit_log_append_only"();--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_tenant_id" ON "oltp"."audit_log" USING btree ("tenant_id","id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_tenant_action" ON "oltp"."audit_log" USING btree ("tenant_id","action","id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_log_action" ON "oltp"."audit_log" USING btree ("action","id" DESC NULLS FIRST);
