-- Hand-written around drizzle-kit's columns: bounces counted per reason. Every bounced event adds
-- one rollup row metric bounced:<reason> (a BOUNCE_REASONS entry, src/inbound/reasons.ts; none or
-- one outside the vocabulary counts as undetermined), beside its hard_ or soft_bounced, so the
-- reasons of a row add up to its bounced as hard_ and soft_bounced do. The refresh writes them to
-- the views as bounce_reasons, an object of the nonzero counts. "bounced:mailbox_disabled" needs
-- a longer metric: widening a varchar rewrites neither the table nor its key.
ALTER TABLE "analytics"."rollup_daily" ALTER COLUMN "metric" SET DATA TYPE varchar(32);--> statement-breakpoint
ALTER TABLE "analytics"."campaign_analytics" ADD COLUMN "bounce_reasons" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "analytics"."mailbox_analytics" ADD COLUMN "bounce_reasons" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "analytics"."sequence_step_analytics" ADD COLUMN "bounce_reasons" jsonb DEFAULT '{}'::jsonb NOT NULL;
--> statement-breakpoint

-- The reason a bounced event counts under. The vocabulary is BOUNCE_REASONS (src/inbound/reasons.ts;
-- tests/analytics/bounce-reasons.test.ts fails when they differ). The API refuses any other reason,
-- but events queued before it did, or stored before this migration, may carry one: counted as
-- undetermined, so that no value can fail a batch or leave its bounce out of the per-reason counts.
CREATE FUNCTION analytics.bounce_reason(p_metadata jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_metadata ->> 'reason' = ANY (ARRAY[
    'user_unknown', 'host_unknown', 'mailbox_full', 'mailbox_disabled', 'has_moved', 'not_accepting', 'filtered',
    'blocked', 'spam_detected', 'policy', 'auth_failure', 'rate_limited', 'too_large', 'expired', 'network',
    'system', 'undetermined'])
  THEN p_metadata ->> 'reason' ELSE 'undetermined' END
$$;
--> statement-breakpoint

-- As in 0004_views_as_tables, plus the bounced:<reason> delta of each new bounce. Same steps, same
-- lock order; the comments there say why.
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
    SELECT tenant_id, campaign_id, sequence_step_id, email_account_id, occurred_at, 'bounced:' || analytics.bounce_reason(metadata), 1
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

-- As in 0004_views_as_tables, plus bounce_reasons: each dirty row's bounced:<reason> rollups as
-- one object. Columns named, since the views now end in a column with a default.
CREATE OR REPLACE FUNCTION analytics.refresh_dirty(p_as_of timestamptz, p_pending jsonb, OUT refreshed integer)
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
      coalesce(sum(r.n) FILTER (WHERE r.metric = 'complained'), 0) AS complained,
      -- One rollup row per reason and key, so each reason appears once in the object.
      coalesce(jsonb_object_agg(split_part(r.metric, ':', 2), r.n) FILTER (WHERE r.metric LIKE 'bounced:%' AND r.n <> 0), '{}') AS bounce_reasons
    FROM unnest(dirty) k
    JOIN analytics.rollup_daily r
      ON (r.tenant_id, r.dimension, r.dim_id, r.day) = (k.tenant_id, k.dimension, k.dim_id, k.day)
    GROUP BY r.tenant_id, r.dimension, r.dim_id, r.day
  ), campaigns AS (
    INSERT INTO analytics.campaign_analytics (tenant_id, campaign_id, day, sent, delivered, opened, unique_opened, clicked,
      unique_clicked, replied, unique_replied, auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained,
      bounce_reasons)
    SELECT tenant_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied,
           auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained, bounce_reasons
      FROM pivot WHERE dimension = 'campaign'
  ), mailboxes AS (
    INSERT INTO analytics.mailbox_analytics (tenant_id, email_account_id, day, sent, delivered, opened, unique_opened, clicked,
      unique_clicked, replied, unique_replied, auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained,
      bounce_reasons)
    SELECT tenant_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied,
           auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained, bounce_reasons
      FROM pivot WHERE dimension = 'mailbox'
  )
  INSERT INTO analytics.sequence_step_analytics (tenant_id, campaign_id, sequence_step_id, day, sent, delivered, opened, unique_opened, clicked,
    unique_clicked, replied, unique_replied, auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained,
    bounce_reasons)
  SELECT tenant_id, campaign_id, dim_id, day, sent, delivered, opened, unique_opened, clicked, unique_clicked, replied, unique_replied,
           auto_replied, bounced, hard_bounced, soft_bounced, unsubscribed, complained, bounce_reasons
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

-- Bounces already counted get their reason rows: from the stored events, and where the rollups
-- count more bounces than events remain (pruned past the horizon, or rollups written without
-- events), the rest as undetermined, so that a row's reasons add up to its bounced from the start.
WITH from_events AS (
  SELECT e.tenant_id, dim.dimension, dim.dim_id, (array_agg(dim.campaign_id))[1] AS campaign_id,
         (e.occurred_at AT TIME ZONE 'UTC')::date AS day, 'bounced:' || analytics.bounce_reason(e.metadata) AS metric,
         count(*) AS n
    FROM analytics.events e,
         LATERAL (VALUES ('campaign', e.campaign_id, e.campaign_id),
                         ('step', e.sequence_step_id, e.campaign_id),
                         ('mailbox', e.email_account_id, NULL::uuid)) AS dim (dimension, dim_id, campaign_id)
   WHERE e.type = 'bounced' AND dim.dim_id IS NOT NULL
   GROUP BY 1, 2, 3, 5, 6
), unexplained AS (
  SELECT r.tenant_id, r.dimension, r.dim_id, r.campaign_id, r.day, 'bounced:undetermined' AS metric,
         r.n - coalesce(sum(f.n), 0) AS n
    FROM analytics.rollup_daily r
    LEFT JOIN from_events f ON (f.tenant_id, f.dimension, f.dim_id, f.day) = (r.tenant_id, r.dimension, r.dim_id, r.day)
   WHERE r.metric = 'bounced'
   GROUP BY r.tenant_id, r.dimension, r.dim_id, r.campaign_id, r.day, r.n
), reasons AS (
  SELECT * FROM from_events
  UNION ALL
  SELECT * FROM unexplained WHERE n > 0
)
INSERT INTO analytics.rollup_daily AS r (tenant_id, dimension, dim_id, campaign_id, day, metric, n)
SELECT tenant_id, dimension, dim_id, (array_agg(campaign_id))[1], day, metric, sum(n)
  FROM reasons
 GROUP BY tenant_id, dimension, dim_id, day, metric
 ORDER BY tenant_id, dimension, dim_id, day, metric
ON CONFLICT (tenant_id, dimension, dim_id, day, metric) DO UPDATE SET n = r.n + excluded.n;
--> statement-breakpoint

-- Only the rows with bounces change (every other row's bounce_reasons is the '{}' it got above),
-- so only their keys are refreshed, not the whole history as in 0004.
INSERT INTO analytics.dirty_keys (tenant_id, dimension, dim_id, day)
SELECT DISTINCT tenant_id, dimension, dim_id, day FROM analytics.rollup_daily WHERE metric LIKE 'bounced:%';
--> statement-breakpoint
SELECT analytics.refresh_dirty(NULL, '{}');