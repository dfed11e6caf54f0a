/**
 * PostgreSQL: batches applied concurrently on several connections, overlapping in events,
 * messages, campaigns, steps, mailboxes and days, with refreshes running beside them, never
 * deadlock, and the rollups and views (bounces per reason included) equal a recount of the distinct events. (PGlite has one connection: nothing runs concurrently there.)
 */
import { describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { testDatabases, useSystem } from '../support/system.ts'
import { engine } from '../support/databases.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import type { Queryable } from '../../src/db/types.ts'
import { applyEvents, type AnalyticsEvent } from '../../src/tiers/analytics/events.ts'
import { refreshDirty } from '../../src/tiers/analytics/refresh.ts'
import { COUNT_COLUMNS } from '../../src/tiers/analytics/views.ts'
import { BOUNCE_REASONS } from '../../src/inbound/reasons.ts'

useSystem()

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TYPES = ['delivered', 'opened', 'opened', 'clicked', 'replied', 'bounced', 'unsubscribed'] as const

/** Messages spread so that any two batches share campaigns, steps and mailboxes in crossed orders. */
function history(tenant: string, n: number, rnd: () => number): AnalyticsEvent[] {
  const ids = (k: number) => Array.from({ length: k }, () => randomUUID())
  const [campaigns, steps, mailboxes, messages] = [ids(4), ids(8), ids(5), ids(30)]
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
  return Array.from({ length: n }, (_, i) => {
    const m = Math.floor(rnd() * messages.length)
    const step = m % steps.length
    const type = pick(TYPES)
    return {
      tenant_id: tenant,
      event_id: `e${i}`,
      message_id: messages[m]!,
      type,
      bounce_type: type === 'bounced' ? pick(['hard', 'soft'] as const) : null,
      occurred_at: new Date(Date.UTC(2026, 10, 1 + Math.floor(rnd() * 4), Math.floor(rnd() * 24))).toISOString(),
      email_account_id: mailboxes[(m * 7) % mailboxes.length]!,
      campaign_id: campaigns[step % campaigns.length]!,
      sequence_step_id: steps[step]!,
      // Some bounces name no reason (undetermined).
      metadata: type === 'bounced' && rnd() < 0.8 ? { reason: pick(BOUNCE_REASONS) } : null,
    }
  })
}

/** Every (dimension, id, day, metric) count, recounted from the distinct stored events. */
async function recount(q: Queryable, tenant: string) {
  const rows = await q.query<{ k: string; n: string }>(
    `WITH e AS (SELECT * FROM analytics.events WHERE tenant_id = $1),
     d AS (
       SELECT 'campaign' AS dimension, campaign_id AS dim_id, e.* FROM e WHERE campaign_id IS NOT NULL
       UNION ALL SELECT 'step', sequence_step_id, e.* FROM e WHERE sequence_step_id IS NOT NULL
       UNION ALL SELECT 'mailbox', email_account_id, e.* FROM e WHERE email_account_id IS NOT NULL
     ), m AS (
       SELECT dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, type AS metric FROM d
       UNION ALL SELECT dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date, coalesce(bounce_type, 'hard') || '_bounced' FROM d WHERE type = 'bounced'
       UNION ALL SELECT dimension, dim_id, (occurred_at AT TIME ZONE 'UTC')::date, 'bounced:' || coalesce(metadata->>'reason', 'undetermined') FROM d WHERE type = 'bounced'
       UNION ALL SELECT dimension, dim_id, (min(occurred_at) AT TIME ZONE 'UTC')::date, 'unique_' || type FROM d
                  WHERE type IN ('opened', 'clicked', 'replied') GROUP BY dimension, dim_id, message_id, type
     )
     SELECT concat_ws('|', dimension, dim_id, day, metric) AS k, count(*) AS n FROM m GROUP BY 1`,
    [tenant],
  )
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]))
}

async function rollups(q: Queryable, tenant: string) {
  const rows = await q.query<{ k: string; n: string }>(
    `SELECT concat_ws('|', dimension, dim_id, day, metric) AS k, n FROM analytics.rollup_daily WHERE tenant_id = $1 AND n <> 0`,
    [tenant],
  )
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]))
}

async function views(q: Queryable, tenant: string) {
  const counts: Record<string, number> = {}
  for (const [dimension, table, key] of [
    ['campaign', 'campaign_analytics', 'campaign_id'],
    ['step', 'sequence_step_analytics', 'sequence_step_id'],
    ['mailbox', 'mailbox_analytics', 'email_account_id'],
  ] as const) {
    const rows = await q.query<Record<string, string> & { bounce_reasons: Record<string, number> }>(
      `SELECT ${key} AS id, day::text AS day, ${COUNT_COLUMNS.join(', ')}, bounce_reasons FROM analytics.${table} WHERE tenant_id = $1`,
      [tenant],
    )
    for (const r of rows) {
      for (const c of COUNT_COLUMNS) if (Number(r[c]) !== 0) counts[`${dimension}|${r.id}|${r.day}|${c}`] = Number(r[c])
      for (const [reason, n] of Object.entries(r.bounce_reasons)) counts[`${dimension}|${r.id}|${r.day}|bounced:${reason}`] = n
    }
  }
  return counts
}

describe('concurrent apply', () => {
  test.skipIf(engine !== 'postgres')('overlapping batches on 8 connections, refreshes beside them: no deadlock, each event counted once', async () => {
    const { urls } = await testDatabases()
    const pool = postgresDb(urls!.analytics, { max: 8 })
    try {
      const tenant = randomUUID()
      const rnd = random(20261202)
      const events = history(tenant, 1_200, rnd)
      // Every event in two batches, shuffled: redeliveries racing the first delivery.
      const sent = [...events, ...events].sort(() => rnd() - 0.5)
      const batches = Array.from({ length: Math.ceil(sent.length / 60) }, (_, i) => sent.slice(i * 60, i * 60 + 60))
      // Refreshes run meanwhile: a change committed while one runs must reach the next.
      let applying = true
      const refreshing = (async () => {
        while (applying) await refreshDirty(pool, new Date(), new Map())
      })()
      const results = await Promise.allSettled(batches.map((b) => applyEvents(pool, b, 30)))
      applying = false
      await refreshing
      const errors = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
      expect(errors).toEqual([])
      const applied = results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.applied : 0), 0)
      expect(applied).toBe(events.length)

      await refreshDirty(pool, new Date(), new Map())
      const expected = await recount(pool, tenant)
      expect(await rollups(pool, tenant)).toEqual(expected)
      expect(await views(pool, tenant)).toEqual(expected)
    } finally {
      await pool.close()
    }
  }, 60_000)
})
