-- Hand-written around drizzle-kit's tables: the three seed views become plain tables that the
-- refresh keeps in step with the rollups, key by key, and analytics.apply_events becomes set-based.
--
-- Why tables and not materialized views refreshed CONCURRENTLY (DESIGN.md, data flow 4): a
-- materialized view can only be recomputed whole, so every refresh cost what the rollups cost
-- (campaigns x days x metrics, across every tenant), and one tenant writing 100,000 days took
-- everyone's refresh from 37 ms to 4.8 s. "Refresh cost must not grow with total history" needs
-- a refresh that touches only the rows that changed. apply_events records each (dimension, id,
-- day) it moves in analytics.dirty_keys; analytics.refresh_dirty recomputes exactly those rows
-- from the rollups and deletes their keys in one transaction, so readers see the old rows or the
-- new ones, never half a refresh. Names, columns and unique keys are those of the views.
DROP MATERIALIZED VIEW analytics.campaign_analytics;
--> statement-breakpoint
DROP MATERIALIZED VIEW analytics.mailbox_analytics;
--> statement-breakpoint
DROP MATERIALIZED VIEW analytics.sequence_step_analytics;
--> statement-breakpoint
-- Only the materialized views read it; it aggregates every rollup row, the cost we are removing.
DROP VIEW analytics.rollup_pivot;
--> statement-breakpoint
CREATE TABLE "analytics"."campaign_analytics" (
	"tenant_id" uuid NOT NULL,
	"campaign_id" uuid NOT NULL,
	"day" date NOT NULL,
	"sent" bigint NOT NULL,
	"delivered" bigint NOT NULL,
	"opened" bigint NOT NULL,
	"unique_opened" bigint NOT NULL,
	"clicked" bigint NOT NULL,
	"unique_clicked" bigint NOT NULL,
	"replied" bigint NOT NULL,
	"unique_replied" bigint NOT NULL,
	"auto_replied" bigint NOT NULL,
	"bounced" bigint NOT NULL,
	"hard_bounced" bigint NOT NULL,
	"soft_bounced" bigint NOT NULL,
	"unsubscribed" bigint NOT NULL,
	"complained" bigint NOT NULL,
	CONSTRAINT "campaign_analytics_key" PRIMARY KEY("tenant_id","campaign_id","day")
);
--> statement-breakpoint
CREATE TABLE "analytics"."dirty_keys" (
	"tenant_id" uuid NOT NULL,
	"dimension" varchar(10) NOT NULL,
	"dim_id" uuid NOT NULL,
	"day" date NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics"."mailbox_analytics" (
	"tenant_id" uuid NOT NULL,
	"email_account_id" uuid NOT NULL,
	"day" date NOT NULL,
	"sent" bigint NOT NULL,
	"delivered" bigint NOT NULL,
	"opened" bigint NOT NULL,
	"unique_opened" bigint NOT NULL,
	"clicked" bigint NOT NULL,
	"unique_clicked" bigint NOT NULL,
	"replied" bigint NOT NULL,
	"unique_replied" bigint NOT NULL,
	"auto_replied" bigint NOT NULL,
	"bounced" bigint NOT NULL,
	"hard_bounced" bigint NOT NULL,
	"soft_bounced" bigint NOT NULL,
	"unsubscribed" bigint NOT NULL,
	"complained" bigint NOT NULL,
	CONSTRAINT "mailbox_analytics_key" PRIMARY KEY("tenant_id","email_account_id","day")
);
--> statement-breakpoint
CREATE TABLE "analytics"."sequence_step_analytics" (
	"tenant_id" uuid NOT NULL,
	"campaign_id" uuid,
	"sequence_step_id" uuid NOT NULL,
	"day" date NOT NULL,
	"sent" bigint NOT NULL,
	"delivered" bigint NOT NULL,
	"opened" bigint NOT NULL,
	"unique_opened" bigint NOT NULL,
	"clicked" bigint NOT NULL,
	"unique_clicked" bigint NOT NULL,
	"replied" bigint NOT NULL,
	"unique_replied" bigint NOT NULL,
	"auto_replied" bigint NOT NULL,
	"bounced" bigint NOT NULL,
	"hard_bounced" bigint NOT NULL,
	"soft_bounced" bigint NOT NULL,
	"unsubscribed" bigint NOT NULL,
	"complained" bigint NOT NULL,
	CONSTRAINT "sequence_step_analytics_key" PRIMARY KEY("tenant_id","sequence_step_id","day")
);
--> statement-breakpoint
CREATE TABLE "analytics"."tenant_as_of" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"as_of" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "dirty_keys_tenant" ON "analytics"."dirty_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "sequence_step_analytics_campaign" ON "analytics"."sequence_step_analytics" USING btree ("tenant_id","campaign_id","day");
--> statement-breakpoint

-- Applies a batch of events exactly once: an event already recorded (same tenant and event_id)
-- changes nothing. Uniques count each message's earliest open, click or reply, on the day it
-- happened; an earlier event arriving later moves the unique to its own day. Bounces also count
-- as hard_ or soft_bounced. Returns the number of events applied and whether a refresh of the
-- views should be scheduled.
--
-- Set-based, so that concurrent batches cannot deadlock: each step takes its row locks in primary
-- key order (events, then message_firsts, then rollup_daily, then refresh_state), and every
-- batch runs the steps in the same order, so no two batches can wait on each other in a cycle.
-- (dirty_keys only ever gets new rows: nothing to wait for.) The per-event loop it replaces
-- bumped campaign, step and mailbox rows interleaved, in an order that differed between batches
-- (45 deadlocks in 4,800 events on PostgreSQL).
CREATE OR REPLACE FUNCTION analytics.apply_events(p_events jsonb, p_reschedule_after interval, OUT applied integer, OUT schedule boolean)
LANGUAGE plpgsql AS $$
DECLARE
  fresh analytics.events[];
BEGIN
  schedule := false;
  WITH incoming AS (
    SELECT DISTINCT ON (tenant_id, event_id) *
      FROM jsonb_to_recordset(p_events) AS x(
        tenant_id uuid, event_id text, message_id uuid, type text, bounce_type text, occurred_at timestamptz,
        email_account_id uuid, campaign_id uuid, sequence_step_id uuid, metadata jsonb)
     ORDER BY tenant_id, event_id
  ), inserted AS (
    INSERT INTO analytics.events AS ev (tenant_id, event_id, message_id, type, bounce_type, occurred_at, email_account_id,
                                        campaign_id, sequence_step_id, metadata)
    SELECT tenant_id, event_id, message_id, type, bounce_type, occurred_at, email_account_id, campaign_id, sequence_step_id, metadata
      FROM incoming ORDER BY tenant_id, event_id
    ON CONFLICT DO NOTHING
    RETURNING ev
  )
  SELECT coalesce(array_agg(ev), '{}') INTO fresh FROM inserted;
  applied := cardinality(fresh);
  IF applied = 0 THEN
    RETURN;
  END IF;

  -- Make sure each (message, type) of a new open, click or reply has its firsts row, then lock
  -- them all: concurrent batches for one message serialize here. Both in key order. The lock is
  -- its own statement so that the next one reads the latest committed first_at.
  INSERT INTO analytics.message_firsts (tenant_id, message_id, type, first_at)
  SELECT DISTINCT tenant_id, message_id, type, 'infinity'::timestamptz FROM unnest(fresh)
   WHERE type IN ('opened', 'clicked', 'replied')
   ORDER BY 1, 2, 3
  ON CONFLICT DO NOTHING;
  PERFORM 1 FROM analytics.message_firsts f
    WHERE (f.tenant_id, f.message_id, f.type) IN (SELECT tenant_id, message_id, type FROM unnest(fresh))
    ORDER BY f.tenant_id, f.message_id, f.type
    FOR UPDATE;

  WITH earliest AS (
    -- Each message's earliest new open, click and reply.
    SELECT DISTINCT ON (tenant_id, message_id, type) * FROM unnest(fresh)
     WHERE type IN ('opened', 'clicked', 'replied')
     ORDER BY tenant_id, message_id, type, occurred_at
  ), moved AS (
    -- The ones earlier than the recorded first: the unique moves from prev's day to theirs.
    UPDATE analytics.message_firsts f SET first_at = m.occurred_at
      FROM (SELECT e.*, p.first_at AS prev
              FROM earliest e JOIN analytics.message_firsts p USING (tenant_id, message_id, type)) m
     WHERE (f.tenant_id, f.message_id, f.type) = (m.tenant_id, m.message_id, m.type) AND m.occurred_at < m.prev
    RETURNING m.*
  ), deltas (tenant_id, campaign_id, sequence_step_id, email_account_id, at, metric, n) AS (
    SELECT tenant_id, campaign_id, sequence_step_id, email_account_id, occurred_at, type, 1 FROM unnest(fresh)
    UNION ALL
    SELECT tenant_id, campaign_id, sequence_step_id, email_account_id, occurred_at, coalesce(bounce_type, 'hard') || '_bounced', 1
      FROM unnest(fresh) WHERE type = 'bounced'
    UNION ALL
    SELECT tenant_id, campaign_id, sequence_step_id, email_account_id, occurred_at, 'unique_' || type, 1 FROM moved
    UNION ALL
    SELECT tenant_id, campaign_id, sequence_step_id, email_account_id, prev, 'unique_' || type, -1 FROM moved
     WHERE prev <> 'infinity'
  ), summed AS (
    -- Every delta on each dimension the event belongs to, summed per rollup row.
    SELECT d.tenant_id, dim.dimension, dim.dim_id, (array_agg(dim.campaign_id))[1] AS campaign_id,
           (d.at AT TIME ZONE 'UTC')::date AS day, d.metric, sum(d.n) AS n
      FROM deltas d,
           LATERAL (VALUES ('campaign', d.campaign_id, d.campaign_id),
                           ('step', d.sequence_step_id, d.campaign_id),
                           ('mailbox', d.email_account_id, NULL::uuid)) AS dim (dimension, dim_id, campaign_id)
     WHERE dim.dim_id IS NOT NULL
     GROUP BY 1, 2, 3, 5, 6
  ), bumped AS (
    INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
    SELECT tenant_id, dimension, dim_id, campaign_id, day, metric, n FROM summed
     WHERE n <> 0
     ORDER BY tenant_id, dimension, dim_id, day, metric
    ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n
    RETURNING tenant_id, dimension, dim_id, day
  )
  INSERT INTO analytics.dirty_keys (tenant_id, dimension, dim_id, day)
  SELECT DISTINCT tenant_id, dimension, dim_id, day FROM bumped;

  -- Only touches the shared row when the views were clean or a scheduled refresh looks lost,
  -- so concurrent batches do not queue up behind one row lock.
  UPDATE analytics.refresh_state
     SET dirty_since = coalesce(dirty_since, now()), scheduled_at = now()
   WHERE id = 1 AND (dirty_since IS NULL OR scheduled_at IS NULL OR scheduled_at < now() - p_reschedule_after);
  schedule := FOUND;
END
$$;
--> statement-breakpoint
DROP FUNCTION analytics.bump(uuid, uuid, uuid, uuid, date, text, bigint);
--> statement-breakpoint

-- Recomputes the rows of the three views that dirty keys name, from the rollups, and records the
-- as_of of every tenant it refreshed, in one transaction: a reader sees a tenant either dirty
-- (its keys still there) or refreshed (its rows and its as_of written). Costs what changed since
-- the last refresh, whatever the history. p_as_of: the watermark of a tenant with nothing
-- waiting; p_pending: tenant id -> when its oldest waiting event was accepted. A null p_as_of
-- records no as_of (the migration below, which cannot know what is waiting in the queue).
-- Returns the number of (dimension, id, day) rows recomputed.
CREATE FUNCTION analytics.refresh_dirty(p_as_of timestamptz, p_pending jsonb, OUT refreshed integer)
LANGUAGE plpgsql AS $$
DECLARE
  dirty analytics.dirty_keys[];
BEGIN
  -- One refresh at a time: two would take the same keys and write the same rows.
  PERFORM pg_advisory_xact_lock(7301552020);
  -- Takes the keys of the applies committed so far, whose rollup changes the statements below
  -- see. A key added by an apply still running stays for the next refresh.
  WITH taken AS (DELETE FROM analytics.dirty_keys d RETURNING d)
  SELECT coalesce(array_agg(DISTINCT d), '{}') INTO dirty FROM taken;
  refreshed := cardinality(dirty);
  IF refreshed = 0 THEN
    RETURN;
  END IF;

  DELETE FROM analytics.campaign_analytics a USING unnest(dirty) k
   WHERE k.dimension = 'campaign' AND (a.tenant_id, a.campaign_id, a.day) = (k.tenant_id, k.dim_id, k.day);
  DELETE FROM analytics.mailbox_analytics a USING unnest(dirty) k
   WHERE k.dimension = 'mailbox' AND (a.tenant_id, a.email_account_id, a.day) = (k.tenant_id, k.dim_id, k.day);
  DELETE FROM analytics.sequence_step_analytics a USING unnest(dirty) k
   WHERE k.dimension = 'step' AND (a.tenant_id, a.sequence_step_id, a.day) = (k.tenant_id, k.dim_id, k.day);

  WITH pivot AS (
    -- Every metric of a dirty (dimension, id, day), one column each.
    SELECT r.tenant_id, r.dimension, r.dim_id, (array_agg(r.campaign_id))[1] AS campaign_id, r.day,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'sent'), 0) AS sent,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'delivered'), 0) AS delivered,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'opened'), 0) AS opened,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'unique_opened'), 0) AS unique_opened,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'clicked'), 0) AS clicked,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'unique_clicked'), 0) AS unique_clicked,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'replied'), 0) AS replied,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'unique_replied'), 0) AS unique_replied,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'auto_replied'), 0) AS auto_replied,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'bounced'), 0) AS bounced,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'hard_bounced'), 0) AS hard_bounced,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'soft_bounced'), 0) AS soft_bounced,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'unsubscribed'), 0) AS unsubscribed,
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'complained'), 0) AS complained
    FROM unnest(dirty) k
    JOIN analytics.rollup_daily r
      ON (r.tenant_id, r.dimension, r.dim_id, r.day) = (k.tenant_id, k.dimension, k.dim_id, k.day)
    GROUP BY r.tenant_id, r.dimension, r.dim_id, r.day
  ), campaigns AS (
    INSERT INTO analytics.campaign_analytics
    SELECT tenant_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied,
           auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained
      FROM pivot WHERE dimension = 'campaign'
  ), mailboxes AS (
    INSERT INTO analytics.mailbox_analytics
    SELECT tenant_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied,
           auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained
      FROM pivot WHERE dimension = 'mailbox'
  )
  INSERT INTO analytics.sequence_step_analytics
  SELECT tenant_id, campaign_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied,
         unique_replied, auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained
    FROM pivot WHERE dimension = 'step';

  -- Monotonic: refreshes only ever add, so a later refresh that read an earlier watermark still
  -- shows everything the previous one claimed.
  INSERT INTO analytics.tenant_as_of AS t (tenant_id, as_of)
  SELECT DISTINCT k.tenant_id, least(p_as_of, (p_pending ->> k.tenant_id::text)::timestamptz)
    FROM unnest(dirty) k
   WHERE p_as_of IS NOT NULL
  ON CONFLICT (tenant_id) DO UPDATE SET as_of = greatest(t.as_of, excluded.as_of);
END
$$;
--> statement-breakpoint

-- The tables start with what the views showed, recomputed from the rollups.
INSERT INTO analytics.dirty_keys (tenant_id, dimension, dim_id, day)
SELECT DISTINCT tenant_id, dimension, dim_id, day FROM analytics.rollup_daily;
--> statement-breakpoint
SELECT analytics.refresh_dirty(NULL, '{}');
