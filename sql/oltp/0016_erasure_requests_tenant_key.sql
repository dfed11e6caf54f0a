-- Hand-written: erasure requests are keyed (tenant_id, id) like every other tenant row, so on
-- Citus they sit on their tenant's shard (src/db/distribution.ts). The table holds one row per
-- request ever made, small enough to re-key in one transaction; the new key replaces the old
-- (tenant_id, id DESC) listing index, which it serves by scanning backwards.
ALTER TABLE "oltp"."erasure_requests" DROP CONSTRAINT "erasure_requests_pkey";--> statement-breakpoint
ALTER TABLE "oltp"."erasure_requests" ADD CONSTRAINT "erasure_requests_pkey" PRIMARY KEY("tenant_id","id");--> statement-breakpoint
DROP INDEX "oltp"."erasure_requests_tenant";
