-- Hand-written (2 of 2): the primary keys move onto the indexes 0017 built, in a moment's lock
-- (no scan: the indexes exist and tenant_id is NOT NULL).
ALTER TABLE "oltp"."outbox" DROP CONSTRAINT "outbox_pkey";--> statement-breakpoint
ALTER TABLE "oltp"."outbox" ADD CONSTRAINT "outbox_pkey" PRIMARY KEY USING INDEX "outbox_tenant_key";--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" DROP CONSTRAINT "audit_log_pkey";--> statement-breakpoint
ALTER TABLE "oltp"."audit_log" ADD CONSTRAINT "audit_log_pkey" PRIMARY KEY USING INDEX "audit_log_tenant_key";
