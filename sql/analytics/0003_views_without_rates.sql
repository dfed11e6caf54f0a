-- Hand-written: the three views lose their per-day rate columns. Nothing read them: a report sums
-- counts over a range of days and computes its rates from the sums (src/services/analytics.ts),
-- since per-day rates do not add up. Materialized views cannot drop a column, so each is rebuilt;
-- they are derived from analytics.rollup_daily and come back with the same rows.
DROP MATERIALIZED VIEW analytics.campaign_analytics;
--> statement-breakpoint
CREATE MATERIALIZED VIEW analytics.campaign_analytics AS
SELECT tenant_id, dim_id AS campaign_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained
FROM analytics.rollup_pivot WHERE dimension = 'campaign';
--> statement-breakpoint
CREATE UNIQUE INDEX campaign_analytics_key ON analytics.campaign_analytics (tenant_id, campaign_id, day);
--> statement-breakpoint
DROP MATERIALIZED VIEW analytics.mailbox_analytics;
--> statement-breakpoint
CREATE MATERIALIZED VIEW analytics.mailbox_analytics AS
SELECT tenant_id, dim_id AS email_account_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained
FROM analytics.rollup_pivot WHERE dimension = 'mailbox';
--> statement-breakpoint
CREATE UNIQUE INDEX mailbox_analytics_key ON analytics.mailbox_analytics (tenant_id, email_account_id, day);
--> statement-breakpoint
DROP MATERIALIZED VIEW analytics.sequence_step_analytics;
--> statement-breakpoint
CREATE MATERIALIZED VIEW analytics.sequence_step_analytics AS
SELECT tenant_id, campaign_id, dim_id AS sequence_step_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained
FROM analytics.rollup_pivot WHERE dimension = 'step';
--> statement-breakpoint
CREATE UNIQUE INDEX sequence_step_analytics_key ON analytics.sequence_step_analytics (tenant_id, sequence_step_id, day);
--> statement-breakpoint
CREATE INDEX sequence_step_analytics_campaign ON analytics.sequence_step_analytics (tenant_id, campaign_id, day);
