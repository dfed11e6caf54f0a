CREATE TABLE "analytics"."message_firsts" (
	"tenant_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"type" varchar(16) NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	CONSTRAINT "message_firsts_tenant_id_message_id_type_pk" PRIMARY KEY("tenant_id","message_id","type")
);
--> statement-breakpoint
CREATE TABLE "analytics"."refresh_state" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"dirty_since" timestamp with time zone,
	"scheduled_at" timestamp with time zone,
	"as_of" timestamp with time zone,
	"refreshed_at" timestamp with time zone,
	"duration_ms" integer,
	CONSTRAINT "refresh_state_single_row" CHECK ("analytics"."refresh_state"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "analytics"."rollup_daily" (
	"tenant_id" uuid NOT NULL,
	"dimension" varchar(10) NOT NULL,
	"dim_id" uuid NOT NULL,
	"campaign_id" uuid,
	"day" date NOT NULL,
	"metric" varchar(20) NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "rollup_daily_tenant_id_dimension_dim_id_day_metric_pk" PRIMARY KEY("tenant_id","dimension","dim_id","day","metric")
);
--> statement-breakpoint
ALTER TABLE "analytics"."events" ADD COLUMN "bounce_type" varchar(10);