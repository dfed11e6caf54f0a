-- Hand-written: the functions that apply events to the rollups, and the three seed views
-- materialized over the rollups (drizzle-kit cannot express either).

INSERT INTO analytics.refresh_state (id) VALUES (1) ON CONFLICT DO NOTHING;
--> statement-breakpoint

-- Adds n to a metric of a day for every dimension the event belongs to.
CREATE OR REPLACE FUNCTION analytics.bump(
  p_tenant uuid, p_campaign uuid, p_step uuid, p_account uuid, p_day date, p_metric text, p_n bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_campaign IS NOT NULL THEN
    INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
    VALUES (p_tenant, 'campaign', p_campaign, p_campaign, p_day, p_metric, p_n)
    ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n;
  END IF;
  IF p_step IS NOT NULL THEN
    INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
    VALUES (p_tenant, 'step', p_step, p_campaign, p_day, p_metric, p_n)
    ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n;
  END IF;
  IF p_account IS NOT NULL THEN
    INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
    VALUES (p_tenant, 'mailbox', p_account, NULL, p_day, p_metric, p_n)
    ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n;
  END IF;
END
$$;
--> statement-breakpoint

-- Applies a batch of events exactly once: an event already recorded (same tenant and event_id)
-- changes nothing. Uniques count each message's earliest open, click or reply, on the day it
-- happened; an earlier event arriving later moves the unique to its own day. Returns the number
-- of events applied and whether a refresh of the views should be scheduled.
CREATE OR REPLACE FUNCTION analytics.apply_events(p_events jsonb, p_reschedule_after interval, OUT applied integer, OUT schedule boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e record;
  d date;
  prev timestamptz;
  u text;
BEGIN
  applied := 0;
  schedule := false;
  -- A stable order keeps concurrent batches taking rollup row locks in the same order.
  FOR e IN
    SELECT * FROM jsonb_to_recordset(p_events) AS x(
      tenant_id uuid, event_id text, message_id uuid, type text, bounce_type text, occurred_at timestamptz,
      email_account_id uuid, campaign_id uuid, sequence_step_id uuid, metadata jsonb)
    ORDER BY tenant_id, campaign_id, sequence_step_id, email_account_id, occurred_at, event_id
  LOOP
    INSERT INTO analytics.events (tenant_id, event_id, message_id, type, bounce_type, occurred_at, email_account_id,
                                  campaign_id, sequence_step_id, metadata)
    VALUES (e.tenant_id, e.event_id, e.message_id, e.type, e.bounce_type, e.occurred_at, e.email_account_id,
            e.campaign_id, e.sequence_step_id, e.metadata)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      CONTINUE;
    END IF;
    applied := applied + 1;
    d := (e.occurred_at AT TIME ZONE 'UTC')::date;
    PERFORM analytics.bump(e.tenant_id, e.campaign_id, e.sequence_step_id, e.email_account_id, d, e.type, 1);
    IF e.type = 'bounced' THEN
      PERFORM analytics.bump(e.tenant_id, e.campaign_id, e.sequence_step_id, e.email_account_id, d,
                             coalesce(e.bounce_type, 'hard') || '_bounced', 1);
    END IF;
    IF e.type IN ('opened', 'clicked', 'replied') THEN
      -- Make sure the row exists, then lock it: concurrent batches for one message serialize here.
      INSERT INTO analytics.message_firsts (tenant_id, message_id, type, first_at)
      VALUES (e.tenant_id, e.message_id, e.type, 'infinity') ON CONFLICT DO NOTHING;
      SELECT first_at INTO prev FROM analytics.message_firsts
       WHERE tenant_id = e.tenant_id AND message_id = e.message_id AND type = e.type FOR UPDATE;
      IF e.occurred_at < prev THEN
        UPDATE analytics.message_firsts SET first_at = e.occurred_at
         WHERE tenant_id = e.tenant_id AND message_id = e.message_id AND type = e.type;
        u := 'unique_' || e.type;
        PERFORM analytics.bump(e.tenant_id, e.campaign_id, e.sequence_step_id, e.email_account_id, d, u, 1);
        IF prev <> 'infinity' THEN
          PERFORM analytics.bump(e.tenant_id, e.campaign_id, e.sequence_step_id, e.email_account_id,
                                 (prev AT TIME ZONE 'UTC')::date, u, -1);
        END IF;
      END IF;
    END IF;
  END LOOP;
  IF applied > 0 THEN
    -- Only touches the shared row when the views were clean or a scheduled refresh looks lost,
    -- so concurrent batches do not queue up behind one row lock.
    UPDATE analytics.refresh_state
       SET dirty_since = coalesce(dirty_since, now()), scheduled_at = now()
     WHERE id = 1 AND (dirty_since IS NULL OR scheduled_at IS NULL OR scheduled_at < now() - p_reschedule_after);
    schedule := FOUND;
  END IF;
END
$$;
--> statement-breakpoint

-- Every metric of a (dimension, id, day), one column each.
CREATE VIEW analytics.rollup_pivot AS
SELECT tenant_id, dimension, dim_id, campaign_id, day,
  coalesce(sum(n) FILTER (WHERE metric = 'sent'), 0)::bigint AS sent,
  coalesce(sum(n) FILTER (WHERE metric = 'delivered'), 0)::bigint AS delivered,
  coalesce(sum(n) FILTER (WHERE metric = 'opened'), 0)::bigint AS opened,
  coalesce(sum(n) FILTER (WHERE metric = 'unique_opened'), 0)::bigint AS unique_opened,
  coalesce(sum(n) FILTER (WHERE metric = 'clicked'), 0)::bigint AS clicked,
  coalesce(sum(n) FILTER (WHERE metric = 'unique_clicked'), 0)::bigint AS unique_clicked,
  coalesce(sum(n) FILTER (WHERE metric = 'replied'), 0)::bigint AS replied,
  coalesce(sum(n) FILTER (WHERE metric = 'unique_replied'), 0)::bigint AS unique_replied,
  coalesce(sum(n) FILTER (WHERE metric = 'auto_replied'), 0)::bigint AS auto_replied,
  coalesce(sum(n) FILTER (WHERE metric = 'bounced'), 0)::bigint AS bounced,
  coalesce(sum(n) FILTER (WHERE metric = 'hard_bounced'), 0)::bigint AS hard_bounced,
  coalesce(sum(n) FILTER (WHERE metric = 'soft_bounced'), 0)::bigint AS soft_bounced,
  coalesce(sum(n) FILTER (WHERE metric = 'unsubscribed'), 0)::bigint AS unsubscribed,
  coalesce(sum(n) FILTER (WHERE metric = 'complained'), 0)::bigint AS complained
FROM analytics.rollup_daily
GROUP BY tenant_id, dimension, dim_id, campaign_id, day;
--> statement-breakpoint

-- Rates are over messages sent: unique opens, unique clicks, unique human replies, bounces.
CREATE MATERIALIZED VIEW analytics.campaign_analytics AS
SELECT tenant_id, dim_id AS campaign_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained,
  unique_opened::float8 / nullif(sent, 0) AS open_rate,
  unique_clicked::float8 / nullif(sent, 0) AS click_rate,
  unique_replied::float8 / nullif(sent, 0) AS reply_rate,
  bounced::float8 / nullif(sent, 0) AS bounce_rate
FROM analytics.rollup_pivot WHERE dimension = 'campaign';
--> statement-breakpoint
CREATE UNIQUE INDEX campaign_analytics_key ON analytics.campaign_analytics (tenant_id, campaign_id, day);
--> statement-breakpoint

CREATE MATERIALIZED VIEW analytics.mailbox_analytics AS
SELECT tenant_id, dim_id AS email_account_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained,
  unique_opened::float8 / nullif(sent, 0) AS open_rate,
  unique_clicked::float8 / nullif(sent, 0) AS click_rate,
  unique_replied::float8 / nullif(sent, 0) AS reply_rate,
  bounced::float8 / nullif(sent, 0) AS bounce_rate
FROM analytics.rollup_pivot WHERE dimension = 'mailbox';
--> statement-breakpoint
CREATE UNIQUE INDEX mailbox_analytics_key ON analytics.mailbox_analytics (tenant_id, email_account_id, day);
--> statement-breakpoint

CREATE MATERIALIZED VIEW analytics.sequence_step_analytics AS
SELECT tenant_id, campaign_id, dim_id AS sequence_step_id, day,
  sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied, auto_replied,
  bounced, hard_bounced, soft_bounced, unsubscribed, complained,
  unique_opened::float8 / nullif(sent, 0) AS open_rate,
  unique_clicked::float8 / nullif(sent, 0) AS click_rate,
  unique_replied::float8 / nullif(sent, 0) AS reply_rate,
  bounced::float8 / nullif(sent, 0) AS bounce_rate
FROM analytics.rollup_pivot WHERE dimension = 'step';
--> statement-breakpoint
CREATE UNIQUE INDEX sequence_step_analytics_key ON analytics.sequence_step_analytics (tenant_id, sequence_step_id, day);
--> statement-breakpoint
CREATE INDEX sequence_step_analytics_campaign ON analytics.sequence_step_analytics (tenant_id, campaign_id, day);
