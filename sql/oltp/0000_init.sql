CREATE SCHEMA "oltp";
--> statement-breakpoint
CREATE TABLE "oltp"."api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key_hash" char(64) NOT NULL,
	"prefix" varchar(16) NOT NULL,
	"name" varchar(100),
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "oltp"."audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oltp"."audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" uuid,
	"actor" varchar(100) NOT NULL,
	"action" varchar(100) NOT NULL,
	"target_type" varchar(50),
	"target_id" varchar(100),
	"detail" jsonb,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oltp"."campaigns" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" varchar(200) NOT NULL,
	"status" varchar(20) DEFAULT 'draft' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaigns_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."email_accounts" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"email_address" varchar(254) NOT NULL,
	"display_name" varchar(200),
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "email_accounts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."inbox_message_refs" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"email_account_id" uuid NOT NULL,
	"campaign_id" uuid,
	"sequence_step_id" uuid,
	"lead_id" uuid,
	"parent_message_id" uuid,
	"direction" varchar(20) NOT NULL,
	"message_type" varchar(20) DEFAULT 'email' NOT NULL,
	"from_email" varchar(254) NOT NULL,
	"to_email" varchar(254) NOT NULL,
	"subject" varchar(500) DEFAULT '' NOT NULL,
	"status" varchar(50) NOT NULL,
	"processed" timestamp with time zone,
	"content_storage_key" varchar(500) NOT NULL,
	"content_state" varchar(20) DEFAULT 'present' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_message_refs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "inbox_message_refs_direction" CHECK ("oltp"."inbox_message_refs"."direction" in ('inbound', 'outbound')),
	CONSTRAINT "inbox_message_refs_message_type" CHECK ("oltp"."inbox_message_refs"."message_type" in ('email', 'bounce', 'auto_reply')),
	CONSTRAINT "inbox_message_refs_content_state" CHECK ("oltp"."inbox_message_refs"."content_state" in ('present', 'expired'))
);
--> statement-breakpoint
CREATE TABLE "oltp"."leads" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"email" varchar(254) NOT NULL,
	"first_name" varchar(100),
	"last_name" varchar(100),
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leads_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "oltp"."outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "oltp"."outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"queue" varchar(64) NOT NULL,
	"payload" jsonb NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oltp"."sequence_steps" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"step_number" integer NOT NULL,
	"subject" varchar(500),
	"delay_days" integer DEFAULT 0 NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sequence_steps_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "sequence_steps_campaign_step" UNIQUE("tenant_id","campaign_id","step_number"),
	CONSTRAINT "sequence_steps_step_number" CHECK ("oltp"."sequence_steps"."step_number" >= 1),
	CONSTRAINT "sequence_steps_delay_days" CHECK ("oltp"."sequence_steps"."delay_days" >= 0)
);
--> statement-breakpoint
CREATE TABLE "oltp"."tenants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(200) NOT NULL,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oltp"."users" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"email" varchar(254) NOT NULL,
	"name" varchar(200),
	"role" varchar(20) DEFAULT 'member' NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "oltp"."api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."campaigns" ADD CONSTRAINT "campaigns_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."email_accounts" ADD CONSTRAINT "email_accounts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_email_account_id_email_accounts_tenant_id_id_fk" FOREIGN KEY ("tenant_id","email_account_id") REFERENCES "oltp"."email_accounts"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_campaign_id_campaigns_tenant_id_id_fk" FOREIGN KEY ("tenant_id","campaign_id") REFERENCES "oltp"."campaigns"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_sequence_step_id_sequence_steps_tenant_id_id_fk" FOREIGN KEY ("tenant_id","sequence_step_id") REFERENCES "oltp"."sequence_steps"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_lead_id_leads_tenant_id_id_fk" FOREIGN KEY ("tenant_id","lead_id") REFERENCES "oltp"."leads"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."inbox_message_refs" ADD CONSTRAINT "inbox_message_refs_tenant_id_parent_message_id_inbox_message_refs_tenant_id_id_fk" FOREIGN KEY ("tenant_id","parent_message_id") REFERENCES "oltp"."inbox_message_refs"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."leads" ADD CONSTRAINT "leads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."sequence_steps" ADD CONSTRAINT "sequence_steps_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."sequence_steps" ADD CONSTRAINT "sequence_steps_tenant_id_campaign_id_campaigns_tenant_id_id_fk" FOREIGN KEY ("tenant_id","campaign_id") REFERENCES "oltp"."campaigns"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oltp"."users" ADD CONSTRAINT "users_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_tenant" ON "oltp"."api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "audit_log_tenant" ON "oltp"."audit_log" USING btree ("tenant_id","created");--> statement-breakpoint
CREATE UNIQUE INDEX "email_accounts_tenant_address" ON "oltp"."email_accounts" USING btree ("tenant_id",lower("email_address"));--> statement-breakpoint
CREATE INDEX "inbox_message_refs_account" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","email_account_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "inbox_message_refs_campaign" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","campaign_id","id" DESC NULLS LAST) WHERE "oltp"."inbox_message_refs"."campaign_id" is not null;--> statement-breakpoint
CREATE INDEX "inbox_message_refs_lead" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","lead_id") WHERE "oltp"."inbox_message_refs"."lead_id" is not null;--> statement-breakpoint
CREATE INDEX "inbox_message_refs_parent" ON "oltp"."inbox_message_refs" USING btree ("tenant_id","parent_message_id") WHERE "oltp"."inbox_message_refs"."parent_message_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "leads_tenant_email" ON "oltp"."leads" USING btree ("tenant_id",lower("email"));--> statement-breakpoint
CREATE INDEX "outbox_created" ON "oltp"."outbox" USING btree ("created");--> statement-breakpoint
CREATE UNIQUE INDEX "users_tenant_email" ON "oltp"."users" USING btree ("tenant_id",lower("email"));