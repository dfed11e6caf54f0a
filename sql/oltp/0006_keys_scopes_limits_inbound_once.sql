-- Hand-written UNLOGGED (drizzle-kit cannot say it): a bucket is worth no WAL flush per lease,
-- and after a crash the buckets start full, which only forgives a second of traffic.
CREATE UNLOGGED TABLE "oltp"."rate_buckets" (
	"key_id" uuid PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"refilled_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP INDEX "oltp"."api_keys_tenant";--> statement-breakpoint
ALTER TABLE "oltp"."api_keys" ADD COLUMN "scopes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
-- Hand-written: keys made before scopes existed could do everything, and keep that.
UPDATE "oltp"."api_keys" SET "scopes" = ARRAY['messages:read', 'messages:write', 'events:write', 'analytics:read', 'inbound:write',
  'campaigns:read', 'campaigns:write', 'leads:read', 'leads:write', 'admin'];--> statement-breakpoint
ALTER TABLE "oltp"."api_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "oltp"."api_keys" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "oltp"."tenants" ADD COLUMN "rate_limit_per_s" integer;--> statement-breakpoint
ALTER TABLE "oltp"."tenants" ADD COLUMN "rate_limit_burst" integer;--> statement-breakpoint
-- Hand-written: racing redeliveries may already have stored one inbound Message-ID twice. The
-- earliest copy keeps the id (threading finds it); later copies stay, without it.
UPDATE "oltp"."inbox_message_refs" r SET "rfc822_message_id" = NULL
  FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id, rfc822_message_id ORDER BY created, id) AS n
          FROM "oltp"."inbox_message_refs" WHERE direction = 'inbound' AND rfc822_message_id IS NOT NULL) d
 WHERE d.n > 1 AND r.tenant_id = d.tenant_id AND r.id = d.id;--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_message_refs_inbound_once" ON "oltp"."inbox_message_refs" USING btree ("tenant_id",md5("rfc822_message_id")) WHERE "oltp"."inbox_message_refs"."direction" = 'inbound' and "oltp"."inbox_message_refs"."rfc822_message_id" is not null;--> statement-breakpoint
CREATE INDEX "api_keys_tenant" ON "oltp"."api_keys" USING btree ("tenant_id","id" DESC NULLS FIRST);