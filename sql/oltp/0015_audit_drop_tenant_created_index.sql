-- edp:no-transaction
-- Every lookup of a tenant's audit rows (the listing, tenant purge, erasure redaction) uses
-- audit_log_tenant_id (0014); this one only cost every audit insert an index entry (about a tenth
-- of a row's bytes). Dropped CONCURRENTLY: no lock that waits behind a long transaction.
DROP INDEX CONCURRENTLY IF EXISTS "oltp"."audit_log_tenant";
