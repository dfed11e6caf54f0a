/**
 * The cross-tier consistency check (`npm run doctor`, GET /v1/admin/doctor): the invariants no
 * single database can enforce, each counted on a live or restored system. The tiers are read
 * separately and compared by key in batches, never joined, like the orphan collector does.
 *
 * - refs_without_content: a ref whose content is `present` has a content row (a tombstone counts:
 *   expiry marks content first, then the refs). Invariant 1 of DESIGN.md.
 * - orphan_content: no message content older than the orphan grace lacks its ref (the collector
 *   deletes such rows; a count here means it is not running, or a restore lost refs).
 * - attachments_without_blob: an attachment that names a blob finds it (a foreign key says so on a
 *   live database; a restore or a hand-made repair may not have kept it).
 * - analytics_recount: the rollups of a sample of campaigns, steps and mailboxes (every one with
 *   `full`) equal a recount of the stored events, on the days whose events are all still kept;
 *   and the three views equal the rollups on keys no refresh is pending for.
 * - stale_queue_messages: no queue message waits longer than `queueMaxAgeS`.
 * - content_keys: every tenant's data key opens with this process's master key (CONTENT_MASTER_KEY,
 *   or CONTENT_MASTER_KEY_PREVIOUS during a rotation). A restore started with the wrong master key,
 *   or a rotation whose previous key was dropped too early, shows here before a read answers 503.
 */
import type { Deps } from '../deps.ts'
import type { Queryable } from '../db/types.ts'
import { messageKeySql } from '../storage-keys.ts'
import { findOrphanContent } from './orphans.ts'
import { eventHorizon } from './analytics.ts'
import { WORK_QUEUES } from '../tiers/queue/queues.ts'
import { unwrapDataKey } from '../content-master-key.ts'
import { liveKeys } from '../tiers/content/keys.ts'

const BATCH = 1000
/** Orphans are counted up to this many: enough to say the collector is not keeping up. */
const ORPHAN_CAP = 10_000

export interface DoctorOptions {
  /** Recount every campaign, step and mailbox rather than a sample. */
  full?: boolean
  /** How many (dimension, id) pairs the analytics recount samples. */
  sample?: number
  /** The oldest a waiting queue message may be, in seconds. */
  queueMaxAgeS?: number
}

export interface Check {
  name: string
  /** What was looked at (refs, keys, ...), to tell an empty system from a clean one. */
  checked: number
  violations: number
  /** A few of the offending keys, for the operator to start from. */
  examples: string[]
}

export interface DoctorReport {
  ok: boolean
  checks: Check[]
}

export async function runDoctor(deps: Deps, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const checks = [
    await refsWithoutContent(deps),
    await orphanContent(deps),
    await attachmentsWithoutBlob(deps.tiers.content),
    await analyticsRecount(deps, opts),
    await staleQueueMessages(deps, opts.queueMaxAgeS ?? 3600),
    await contentKeys(deps),
  ]
  return { ok: checks.every((c) => c.violations === 0), checks }
}

const check = (name: string, checked: number, bad: string[]): Check => ({ name, checked, violations: bad.length, examples: bad.slice(0, 5) })

async function refsWithoutContent(deps: Deps): Promise<Check> {
  const { oltp, content } = deps.tiers
  const bad: string[] = []
  let checked = 0
  let after = { tenant: '00000000-0000-0000-0000-000000000000', id: '00000000-0000-0000-0000-000000000000' }
  for (;;) {
    // A ref stores its key only when it is not the derived one (src/storage-keys.ts).
    const refs = await oltp.query<{ tenant_id: string; id: string; content_storage_key: string }>(
      `SELECT tenant_id, id, coalesce(content_storage_key, ${messageKeySql('tenant_id', 'id')}) AS content_storage_key FROM oltp.inbox_message_refs
        WHERE (tenant_id, id) > ($1::uuid, $2::uuid) AND content_state = 'present'
        ORDER BY tenant_id, id LIMIT $3`,
      [after.tenant, after.id, BATCH],
    )
    if (refs.length === 0) break
    checked += refs.length
    const found = await content.query<{ storage_key: string }>(`SELECT storage_key FROM content.content_objects WHERE storage_key = ANY($1::text[])`, [
      refs.map((r) => r.content_storage_key),
    ])
    const have = new Set(found.map((r) => r.storage_key))
    for (const r of refs) if (!have.has(r.content_storage_key)) bad.push(`${r.tenant_id}/${r.id}`)
    const last = refs[refs.length - 1]!
    after = { tenant: last.tenant_id, id: last.id }
  }
  return check('refs_without_content', checked, bad)
}

async function orphanContent(deps: Deps): Promise<Check> {
  const cutoff = new Date(deps.clock.now() - deps.config.CONTENT_ORPHAN_GRACE_S * 1000)
  const [{ n }] = (await deps.tiers.content.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM content.content_objects WHERE kind IN ('inbound', 'outbound') AND created < $1`,
    [cutoff],
  )) as [{ n: number }]
  const orphans = await findOrphanContent(deps, cutoff, ORPHAN_CAP)
  return check('orphan_content', n, orphans.map((o) => o.storage_key))
}

async function attachmentsWithoutBlob(q: Queryable): Promise<Check> {
  const [{ n }] = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM content.attachments WHERE blob_sha256 IS NOT NULL`)) as [{ n: number }]
  const rows = await q.query<{ id: string; parent_storage_key: string }>(
    `SELECT a.id, a.parent_storage_key FROM content.attachments a
      WHERE a.blob_sha256 IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM content.attachment_blobs b WHERE b.tenant_id = a.tenant_id AND b.sha256 = a.blob_sha256)
      LIMIT $1`,
    [ORPHAN_CAP],
  )
  return check('attachments_without_blob', n, rows.map((r) => `${r.parent_storage_key}#${r.id}`))
}

/**
 * The rollup rows of the sampled (dimension, id) pairs against the same counts derived from the
 * stored events, as apply_events derives them: one per event and type, hard/soft and reason for
 * bounces, and a unique on the day of each message's earliest open, click or reply; plus the
 * deltas legacy-migrated history recorded (analytics.legacy_history), which has no events. Days
 * before the event horizon are skipped: their events may be pruned while the rollups stay.
 */
async function analyticsRecount(deps: Deps, opts: DoctorOptions): Promise<Check> {
  const q = deps.tiers.analytics
  const from = new Date(eventHorizon(deps).getTime() + 86_400_000).toISOString().slice(0, 10)
  const picked = await q.query<{ tenant_id: string; dimension: string; dim_id: string }>(
    `SELECT * FROM (SELECT DISTINCT tenant_id, dimension, dim_id FROM analytics.rollup_daily WHERE day >= $1::date) k
      ORDER BY ${opts.full ? 'tenant_id, dimension, dim_id' : 'random()'} ${opts.full ? '' : 'LIMIT $2'}`,
    opts.full ? [from] : [from, opts.sample ?? 200],
  )
  if (picked.length === 0) return check('analytics_recount', 0, [])
  const keys = JSON.stringify(picked)
  const diffs = await q.query<{ k: string; rollup: string | null; recount: string | null }>(
    `WITH k AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id uuid, dimension text, dim_id uuid)),
     hf AS (
       SELECT f.tenant_id, f.message_id, f.type, f.set
         FROM analytics.legacy_history lh
         CROSS JOIN LATERAL jsonb_to_recordset(lh.deltas -> 'firsts') AS f(tenant_id uuid, message_id uuid, type text, prev text, set timestamptz)
        WHERE f.prev IS NULL OR f.prev = 'infinity'
     ),
     d AS (
       SELECT k.dimension, k.dim_id, e.* FROM k JOIN analytics.events e
         ON e.tenant_id = k.tenant_id AND CASE k.dimension WHEN 'campaign' THEN e.campaign_id
                                                           WHEN 'step' THEN e.sequence_step_id
                                                           ELSE e.email_account_id END = k.dim_id
     ), m AS (
       SELECT tenant_id, dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, type AS metric FROM d
       UNION ALL SELECT tenant_id, dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date, coalesce(bounce_type, 'hard') || '_bounced'
                   FROM d WHERE type = 'bounced'
       UNION ALL SELECT tenant_id, dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date, 'bounced:' || analytics.bounce_reason(metadata)
                   FROM d WHERE type = 'bounced'
       UNION ALL SELECT tenant_id, dimension, dim_id, (min(occurred_at) AT TIME ZONE 'UTC')::date, 'unique_' || type FROM d
                  WHERE type IN ('opened', 'clicked', 'replied') GROUP BY tenant_id, dimension, dim_id, message_id, type
                 -- A message whose first reply is migrated history (set where it had none) counted no unique for its live ones.
                 HAVING NOT EXISTS (SELECT 1 FROM hf WHERE (hf.tenant_id, hf.message_id, hf.type) = (d.tenant_id, d.message_id, d.type)
                                                       AND hf.set < min(d.occurred_at))
     ), h AS (
       -- Legacy-migrated history (src/services/legacy/history.ts): counted in the rollups without events.
       SELECT x.tenant_id, x.dimension, x.dim_id, x.day, x.metric, x.n
         FROM analytics.legacy_history lh
         CROSS JOIN LATERAL jsonb_to_recordset(lh.deltas -> 'rollups') AS x(tenant_id uuid, dimension text, dim_id uuid, day date, metric text, n bigint)
         JOIN k ON (k.tenant_id, k.dimension, k.dim_id) = (x.tenant_id, x.dimension, x.dim_id)
     ), recounted AS (
       SELECT tenant_id, dimension, dim_id, day, metric, sum(n) AS n
         FROM (SELECT tenant_id, dimension, dim_id, day, metric, 1 AS n FROM m UNION ALL SELECT * FROM h) counted
        WHERE day >= $2::date GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
     ), rolled AS (
       SELECT r.tenant_id, r.dimension, r.dim_id, r.day, r.metric, r.n FROM analytics.rollup_daily r
         JOIN k ON (r.tenant_id, r.dimension, r.dim_id) = (k.tenant_id, k.dimension, k.dim_id)
        WHERE r.day >= $2::date AND r.n <> 0
     )
     SELECT concat_ws('|', coalesce(a.tenant_id, b.tenant_id), coalesce(a.dimension, b.dimension), coalesce(a.dim_id, b.dim_id),
                      coalesce(a.day, b.day), coalesce(a.metric, b.metric)) AS k,
            a.n::text AS rollup, b.n::text AS recount
       FROM rolled a FULL JOIN recounted b USING (tenant_id, dimension, dim_id, day, metric)
      WHERE a.n IS DISTINCT FROM b.n
      LIMIT $3`,
    [keys, from, ORPHAN_CAP],
  )
  const viewDiffs = await viewsAgainstRollups(q, keys, from)
  return check('analytics_recount', picked.length, [
    ...diffs.map((d) => `${d.k}: rollup ${d.rollup ?? 0}, events ${d.recount ?? 0}`),
    ...viewDiffs,
  ])
}

/** The views' sent, bounced, opened and unique opens against the rollups, on keys with no refresh pending. */
async function viewsAgainstRollups(q: Queryable, keys: string, from: string): Promise<string[]> {
  const rows = await q.query<{ k: string }>(
    `WITH k AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(tenant_id uuid, dimension text, dim_id uuid)),
     v AS (
       SELECT 'campaign' AS dimension, tenant_id, campaign_id AS dim_id, day, sent, bounced, opened, unique_opened FROM analytics.campaign_analytics
       UNION ALL SELECT 'step', tenant_id, sequence_step_id, day, sent, bounced, opened, unique_opened FROM analytics.sequence_step_analytics
       UNION ALL SELECT 'mailbox', tenant_id, email_account_id, day, sent, bounced, opened, unique_opened FROM analytics.mailbox_analytics
     ), vk AS (
       SELECT v.* FROM v JOIN k USING (tenant_id, dimension, dim_id) WHERE day >= $2::date
     ), rk AS (
       SELECT tenant_id, dimension, dim_id, day,
              coalesce(sum(n) FILTER (WHERE metric = 'sent'), 0)::bigint AS sent, coalesce(sum(n) FILTER (WHERE metric = 'bounced'), 0)::bigint AS bounced,
              coalesce(sum(n) FILTER (WHERE metric = 'opened'), 0)::bigint AS opened,
              coalesce(sum(n) FILTER (WHERE metric = 'unique_opened'), 0)::bigint AS unique_opened
         FROM analytics.rollup_daily JOIN k USING (tenant_id, dimension, dim_id) WHERE day >= $2::date GROUP BY 1, 2, 3, 4
     ), j AS (
       SELECT tenant_id, dimension, dim_id, day, (vk.sent, vk.bounced, vk.opened, vk.unique_opened) AS shown,
              (rk.sent, rk.bounced, rk.opened, rk.unique_opened) AS rolled
         FROM rk FULL JOIN vk USING (tenant_id, dimension, dim_id, day)
     )
     SELECT concat_ws('|', j.tenant_id, j.dimension, j.dim_id, j.day) AS k FROM j
      WHERE j.shown IS DISTINCT FROM j.rolled
        AND NOT EXISTS (SELECT 1 FROM analytics.dirty_keys d
                         WHERE (d.tenant_id, d.dimension, d.dim_id, d.day) = (j.tenant_id, j.dimension, j.dim_id, j.day))
      LIMIT 100`,
    [keys, from],
  )
  return rows.map((r) => `${r.k}: the view differs from the rollups`)
}

async function staleQueueMessages(deps: Deps, maxAgeS: number): Promise<Check> {
  const bad: string[] = []
  let checked = 0
  let stale = 0
  for (const queue of WORK_QUEUES) {
    const [counts] = await deps.tiers.queue.query<{ total: number; stale: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE enqueued_at < now() - make_interval(secs => $1)))::int AS stale FROM pgmq.q_${queue}`,
      [maxAgeS],
    )
    checked += counts!.total
    stale += counts!.stale
    const oldest = await deps.tiers.queue.query<{ msg_id: string; age: number }>(
      `SELECT msg_id::text, extract(epoch FROM now() - enqueued_at)::float8 AS age
         FROM pgmq.q_${queue} WHERE enqueued_at < now() - make_interval(secs => $1) ORDER BY msg_id LIMIT 5`,
      [maxAgeS],
    )
    for (const r of oldest) bad.push(`${queue}#${r.msg_id} waiting ${Math.round(r.age)} s`)
  }
  return { name: 'stale_queue_messages', checked, violations: stale, examples: bad.slice(0, 5) }
}

/** The report as the CLIs print it: a line per check, its first offending keys under it, a verdict. */
export function reportLines(report: DoctorReport): string[] {
  const lines: string[] = []
  for (const c of report.checks) {
    lines.push(`${c.violations === 0 ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(26)} ${String(c.violations).padStart(6)} of ${c.checked}`)
    for (const e of c.examples) lines.push(`        ${e}`)
  }
  lines.push(report.ok ? 'all invariants hold' : 'violations found')
  return lines
}

async function contentKeys(deps: Deps): Promise<Check> {
  // No master key at all (server mode without CONTENT_MASTER_KEY): every key is one nothing opens.
  const master = await deps.contentKeys.masterKeys().catch(() => null)
  const masters = [master?.current, master?.previous].filter((m) => m != null)
  const bad: string[] = []
  let checked = 0
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const rows = await liveKeys(deps.tiers.content, after, BATCH)
    for (const r of rows) {
      const m = masters.find((k) => k.fingerprint === r.master_fingerprint)
      const raw = m && (await unwrapDataKey(m, r.tenant_id, r.key_id, r.wrapped_key))
      if (!raw) bad.push(`${r.tenant_id} (master ${r.master_fingerprint})`)
      raw?.fill(0)
    }
    checked += rows.length
    if (rows.length < BATCH) return check('content_keys', checked, bad)
    after = rows.at(-1)!.tenant_id
  }
}
