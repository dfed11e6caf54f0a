CREATE TABLE "oltp"."idempotency_keys" (
	"tenant_id" uuid NOT NULL,
	"key_hash" char(64) NOT NULL,
	"request_hash" char(64) NOT NULL,
	"state" varchar(10) NOT NULL,
	"claim_id" uuid NOT NULL,
	"claimed_until" timestamp with time zone NOT NULL,
	"status" integer,
	"content_type" varchar(200),
	"response" "bytea",
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_tenant_id_key_hash_pk" PRIMARY KEY("tenant_id","key_hash")
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created" ON "oltp"."idempotency_keys" USING btree ("created");