-- Hand-written: settles a worker's batch in one round trip. Archives the messages that succeeded
-- and records one job_logs row per attempt in the batch (succeeded, retrying or dead alike).
-- The logs arrive as one jsonb array: measured faster than seven array parameters, whose
-- encoding cost more than the insert.
CREATE OR REPLACE FUNCTION queue.complete_jobs(p_queue text, p_archive bigint[], p_logs jsonb, p_worker text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(p_archive) > 0 THEN
    PERFORM pgmq.archive(p_queue, p_archive);
  END IF;
  INSERT INTO queue.job_logs (queue, msg_id, job, attempt, outcome, error, duration_ms, worker_id, started_at)
  SELECT p_queue, t.msg_id, t.job, t.attempt, t.outcome, t.error, t.duration_ms, p_worker, t.started_at
    FROM jsonb_to_recordset(p_logs)
      AS t(msg_id bigint, job text, attempt integer, outcome text, error text, duration_ms integer, started_at timestamptz);
END
$$;
