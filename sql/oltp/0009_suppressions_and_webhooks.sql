CREATE TABLE "oltp"."soft_bounce_streaks" (
	"tenant_id" uuid NOT NULL,
	"email" varchar(254) NOT NULL,
	"count" integer NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "soft_bounce_streaks_tenant_id_email_pk" PRIMARY KEY("tenant_id","email")
);
--> statement-breakpoint
CREATE TABLE "oltp"."suppressions" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"email" varchar(254) NOT NULL,
	"reason" varchar(20) NOT NULL,
	"bounce_reason" varchar(20),
	"source" varchar(30) NOT NULL,
	"source_message_id" uuid,
	"note" varchar(500),
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suppressions_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."webhook_receipts" (
	"tenant_id" uuid NOT NULL,
	"provider" varchar(20) NOT NULL,
	"event_id" varchar(200) NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_receipts_tenant_id_provider_event_id_pk" PRIMARY KEY("tenant_id","provider","event_id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."webhook_settings" (
	"tenant_id" uuid NOT NULL,
	"provider" varchar(20) NOT NULL,
	"settings" jsonb NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_settings_tenant_id_provider_pk" PRIMARY KEY("tenant_id","provider")
);
--> statement-breakpoint
ALTER TABLE "oltp"."soft_bounce_streaks" ADD CONSTRAINT "soft_bounce_streaks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."suppressions" ADD CONSTRAINT "suppressions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."webhook_receipts" ADD CONSTRAINT "webhook_receipts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."webhook_settings" ADD CONSTRAINT "webhook_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "suppressions_tenant_email" ON "oltp"."suppressions" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE INDEX "webhook_receipts_created" ON "oltp"."webhook_receipts" USING btree ("created");