/**
 * The legacy single-table design against the 4-tier design on one generated dataset (1M
 * messages by default; see bench/gen): bytes per message, the reads an inbox application makes
 * at the SQL level (warm and cold cache) and through HTTP at 1, 16 and 200 concurrent clients.
 * Both designs live in one database on the same server, so they share every setting.
 */
import { execFileSync } from 'node:child_process'
import { migrateAll } from '../../src/db/migrate.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import type { Db } from '../../src/db/types.ts'
import { unpackBody } from '../../src/tiers/content/codec.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { getThread, listMessageRefs, getMessageRef } from '../../src/tiers/oltp/messages.ts'
import { dropDataset, ensureDataset, type DatasetInfo } from '../dataset/load.ts'
import { World } from '../../datagen/world.ts'
import { legacyQueries, refsCampaignCounts } from '../legacy/queries.ts'
import { databaseUrl, serverVersion } from '../lib/pg.ts'
import { prng } from '../../datagen/corpus.ts'
import type { Row, Section } from '../lib/report.ts'
import { startServer } from '../lib/server.ts'
import { median, percentile, round } from '../lib/stats.ts'
import { hasWrk, wrk, type WrkRequest } from '../lib/wrk.ts'

export const DATASETS = {
  full: { options: { messages: 1_000_000, tenants: 50, seed: 1 }, database: 'edp_bench_dataset' },
  quick: { options: { messages: 4_000, tenants: 5, seed: 1 }, database: 'edp_bench_dataset_quick' },
}

interface Sample {
  tenant_id: string
  id: string
  email_account_id: string
  campaign_id: string | null
  lead_id: string | null
  parent_message_id: string | null
}

interface Op {
  name: string
  /** What the operation is, for the table. */
  label: string
  keys: Sample[]
  ours: (db: Db, k: Sample) => Promise<unknown>
  legacy: (db: Db, k: Sample) => Promise<unknown>
  /** The HTTP request each design's API answers it with. */
  path: (k: Sample) => string
}

/** The 4-tier message fetch: the ref, then its content object through the content tier's own query. */
async function ourMessage(db: Db, k: Sample) {
  const ref = await getMessageRef(db, k.tenant_id, k.id)
  const row = await getContentObject(db, k.tenant_id, ref!.content_storage_key)
  return { ref, content: unpackBody(row!), headers: row!.headers }
}

function operations(samples: Sample[]): Op[] {
  const having = (f: (s: Sample) => unknown) => samples.filter(f)
  return [
    {
      name: 'inbox',
      label: "a mailbox's newest 50",
      keys: samples,
      ours: (db, k) => listMessageRefs(db, k.tenant_id, { emailAccountId: k.email_account_id, limit: 50 }),
      legacy: (db, k) => legacyQueries.inbox(db, k.tenant_id, k.email_account_id),
      path: (k) => `/v1/messages?email_account_id=${k.email_account_id}&limit=50`,
    },
    {
      name: 'thread',
      label: 'a thread from one of its replies',
      keys: having((s) => s.parent_message_id),
      ours: (db, k) => getThread(db, k.tenant_id, k.id),
      legacy: (db, k) => legacyQueries.thread(db, k.tenant_id, k.id),
      path: (k) => `/v1/messages/${k.id}/thread`,
    },
    {
      name: 'lead',
      label: "a lead's messages, newest 50",
      keys: having((s) => s.lead_id),
      ours: (db, k) => listMessageRefs(db, k.tenant_id, { leadId: k.lead_id!, limit: 50 }),
      legacy: (db, k) => legacyQueries.lead(db, k.tenant_id, k.lead_id!),
      path: (k) => `/v1/messages?lead_id=${k.lead_id}&limit=50`,
    },
    {
      name: 'campaign counts',
      label: "a campaign's messages by status, counted on the table",
      keys: having((s) => s.campaign_id),
      ours: (db, k) => refsCampaignCounts(db, k.tenant_id, k.campaign_id!),
      legacy: (db, k) => legacyQueries.campaignCounts(db, k.tenant_id, k.campaign_id!),
      // Over HTTP the 4-tier API answers from the analytics tier; the legacy one counts the table.
      path: (k) => `/v1/analytics/campaigns/${k.campaign_id}`,
    },
    {
      name: 'message',
      label: 'one message with its body and headers',
      keys: samples,
      ours: ourMessage,
      legacy: (db, k) => legacyQueries.message(db, k.tenant_id, k.id),
      path: (k) => `/v1/messages/${k.id}`,
    },
  ]
}

const ms = (x: number) => `${round(x, 2)} ms`

/**
 * Side by side on one connection each, alternating which design goes first: `iterations` rounds
 * or `seconds`, whichever ends first (counting a 100k-message campaign takes a while).
 */
async function sqlLatency(ours: Db, legacy: Db, op: Op, iterations: number, seconds = Infinity) {
  const a: number[] = []
  const b: number[] = []
  const until = performance.now() + seconds * 1000
  for (let i = 0; i < iterations && performance.now() < until; i++) {
    const k = op.keys[i % op.keys.length]!
    const runs: [Db, (db: Db, k: Sample) => Promise<unknown>, number[]][] = [
      [ours, op.ours, a],
      [legacy, op.legacy, b],
    ]
    if (i % 2) runs.reverse()
    for (const [db, fn, out] of runs) {
      const t = performance.now()
      await fn(db, k)
      out.push(performance.now() - t)
    }
  }
  return { rounds: a.length, ours: { p50: median(a), p99: percentile(a, 99) }, legacy: { p50: median(b), p99: percentile(b, 99) } }
}

/**
 * Restarts the local PostgreSQL and drops the OS page cache; returns why not when it may not.
 * Only with `npm run bench -- --cold`: the server on 5432 is shared with everything else on the
 * machine, tests included, and a benchmark must not restart it unasked.
 */
function coldRestart(asked: boolean): string | undefined {
  if (!asked) return 'not asked for (npm run bench -- --cold restarts the shared server)'
  if (process.getuid?.() !== 0) return 'not root: cannot drop the page cache'
  if (!Bun.which('pg_ctlcluster')) return 'pg_ctlcluster not found: not a local Debian PostgreSQL'
  const version = execFileSync('ls', ['/etc/postgresql']).toString().trim().split('\n')[0]!
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop'])
  execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'])
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'])
  return undefined
}

/** First reads after a restart with the page cache dropped: legacy first, then ours over the same keys. */
async function coldLatency(url: string, ops: Op[], keys: number, seconds: number, asked: boolean) {
  const result: Record<string, { ours: number[]; legacy: number[] }> = {}
  let rounds = keys
  for (const design of ['legacy', 'ours'] as const) {
    const skipped = coldRestart(asked)
    if (skipped) return { skipped }
    const db = postgresDb(url, { max: 1, applicationName: 'edp-bench-cold' })
    await db.query('SELECT 1')
    const until = performance.now() + seconds * 1000
    let i = 0
    for (; i < rounds && (design === 'ours' || performance.now() < until); i++) {
      for (const op of ops) {
        const k = op.keys[(i * 7919) % op.keys.length]!
        const t = performance.now()
        await op[design](db, k)
        ;((result[op.name] ??= { ours: [], legacy: [] })[design]).push(performance.now() - t)
      }
    }
    rounds = i
    await db.close()
  }
  return { result, rounds }
}

async function sizes(db: Db) {
  const [r] = await db.query<Record<string, string>>(
    `SELECT pg_total_relation_size('oltp.inbox_message_refs') AS refs_total, pg_indexes_size('oltp.inbox_message_refs') AS refs_indexes,
            pg_relation_size('oltp.inbox_message_refs') AS refs_heap,
            pg_total_relation_size('legacy.emails') AS legacy_total, pg_indexes_size('legacy.emails') AS legacy_indexes,
            pg_relation_size('legacy.emails') AS legacy_heap,
            pg_total_relation_size('legacy.email_attachments') AS legacy_attachments,
            pg_total_relation_size('content.content_objects') AS content_objects,
            pg_total_relation_size('content.attachments') + pg_total_relation_size('content.attachment_blobs') AS content_attachments,
            (SELECT count(*) FROM oltp.inbox_message_refs) AS messages`,
  )
  return Object.fromEntries(Object.entries(r!).map(([k, v]) => [k, Number(v)])) as Record<string, number>
}

export async function benchOltp({ quick = false, cold: coldAsked = false } = {}): Promise<Section> {
  const { options, database } = quick ? DATASETS.quick : DATASETS.full
  const info: DatasetInfo = await ensureDataset(options, database)
  const url = databaseUrl(database)
  const db = postgresDb(url, { max: 2, applicationName: 'edp-bench' })
  // A dataset loaded before the newest migrations gets them now (a tuning shows up as before/after).
  await migrateAll(Object.fromEntries(TIER_NAMES.map((t) => [t, db])) as Record<TierName, Db>)
  await db.exec('ANALYZE oltp.inbox_message_refs')
  const rows: Row[] = []
  const data: Record<string, unknown> = { dataset: info, postgres: await serverVersion(db) }
  try {
    const s = await sizes(db)
    data.sizes = s
    const per = (b: number) => Math.round(b / s.messages!)
    rows.push(
      {
        benchmark: 'bytes per message',
        case: `${s.messages!.toLocaleString('en')} messages: OLTP table + indexes + TOAST`,
        ours: `refs ${per(s.refs_total!)} B (${per(s.refs_indexes!)} B indexes)`,
        baseline: `legacy emails ${per(s.legacy_total!)} B (${per(s.legacy_indexes!)} B indexes)`,
        ratio: s.legacy_total! / s.refs_total!,
        note: `OLTP ${round((1 - s.refs_total! / s.legacy_total!) * 100, 1)}% smaller (target ≥ 85%; DESIGN's per-ref goal 400 B)`,
      },
      {
        benchmark: 'bytes per message',
        case: 'hot heap only (what a listing scans)',
        ours: `${per(s.refs_heap!)} B`,
        baseline: `${per(s.legacy_heap!)} B`,
        ratio: s.legacy_heap! / s.refs_heap!,
      },
      {
        benchmark: 'bytes per message',
        case: 'everything: refs + content tier (bodies, attachments) vs legacy emails + attachments',
        ours: `${per(s.refs_total! + s.content_objects! + s.content_attachments!)} B`,
        baseline: `${per(s.legacy_total! + s.legacy_attachments!)} B`,
        ratio: (s.legacy_total! + s.legacy_attachments!) / (s.refs_total! + s.content_objects! + s.content_attachments!),
        note: `raw bodies + headers ${per(info.raw_bytes)} B`,
      },
    )

    const samples = await db.query<Sample>(
      `SELECT tenant_id, id, email_account_id, campaign_id, lead_id, parent_message_id
         FROM oltp.inbox_message_refs TABLESAMPLE BERNOULLI ($1) REPEATABLE (7) LIMIT 3000`,
      [Math.min(100, (100 * 4000) / s.messages!)],
    )
    const rand = prng(11)
    samples.sort(() => rand() - 0.5)
    const ops = operations(samples)
    const iterations = quick ? 100 : 2000
    const ours = postgresDb(url, { max: 1, applicationName: 'edp-bench-ours' })
    const legacy = postgresDb(url, { max: 1, applicationName: 'edp-bench-legacy' })
    data.sql = {}
    for (const op of ops) {
      await sqlLatency(ours, legacy, op, Math.min(op.keys.length, 200), quick ? 0.5 : 5) // warm-up
      const r = await sqlLatency(ours, legacy, op, iterations, quick ? 1 : 15)
      ;(data.sql as Record<string, unknown>)[op.name] = r
      rows.push({
        benchmark: 'SQL, warm cache',
        case: `${op.name}: ${op.label}`,
        ours: `p50 ${ms(r.ours.p50)}, p99 ${ms(r.ours.p99)}`,
        baseline: `p50 ${ms(r.legacy.p50)}, p99 ${ms(r.legacy.p99)}`,
        ratio: r.legacy.p99 / r.ours.p99,
        note: `ratio of p99; ${r.rounds} rounds`,
      })
    }
    await Promise.all([ours.close(), legacy.close(), db.close()])

    const cold = await coldLatency(url, ops, quick ? 10 : 200, quick ? 2 : 30, coldAsked)
    data.cold = cold
    if ('skipped' in cold) {
      rows.push({ benchmark: 'SQL, cold cache', case: 'after a restart with the page cache dropped', ours: '–', baseline: '–', ratio: null, note: `skipped: ${cold.skipped}` })
    } else {
      for (const op of ops) {
        const r = cold.result![op.name]!
        rows.push({
          benchmark: 'SQL, cold cache',
          case: `${op.name}: first read after a restart with the page cache dropped`,
          ours: `p50 ${ms(median(r.ours))}, p99 ${ms(percentile(r.ours, 99))}`,
          baseline: `p50 ${ms(median(r.legacy))}, p99 ${ms(percentile(r.legacy, 99))}`,
          ratio: median(r.legacy) / median(r.ours),
          note: `ratio of p50; ${cold.rounds} keys`,
        })
      }
    }

    if (!hasWrk()) {
      rows.push({ benchmark: 'HTTP', case: 'every operation', ours: '–', baseline: '–', ratio: null, note: 'skipped: wrk is not installed (apt-get install wrk)' })
    } else {
      data.http = await httpLatency(url, info, ops, quick, rows)
    }
  } finally {
    await db.close().catch(() => {})
    if (quick) await dropDataset(database)
  }
  return { name: 'oltp', rows, data }
}

async function httpLatency(url: string, info: DatasetInfo, ops: Op[], quick: boolean, rows: Row[]) {
  const keys = new Map(new World(info.options, 1).tenants.map((t) => [t.id, t.apiKey]))
  const seconds = quick ? 1 : 4
  // Quick mode (CI) keeps every operation but one concurrency, to stay well under two minutes.
  const clients = quick ? [16] : [1, 16, 200]
  const servers = {
    ours: await startServer(url, { WORKERS_IN_PROCESS: 'false' }),
    legacy: await startServer(url, {}, 'bench/legacy/server.ts'),
  }
  const out: Record<string, unknown> = {}
  try {
    for (const op of ops) {
      const requests: WrkRequest[] = op.keys.slice(0, 2000).map((k) => ({ path: op.path(k), key: keys.get(k.tenant_id)! }))
      for (const c of clients) {
        const r = {
          ours: await wrk(servers.ours.url, requests, c, seconds),
          legacy: await wrk(servers.legacy.url, requests, c, seconds),
        }
        out[`${op.name}@${c}`] = r
        const errors = r.ours.errors + r.legacy.errors
        rows.push({
          benchmark: `HTTP, ${c} client${c > 1 ? 's' : ''}`,
          case: `${op.name}${op.name === 'campaign counts' ? ' (4-tier: analytics tier; legacy: count on the table)' : ''}`,
          ours: `p50 ${ms(r.ours.p50_ms)}, p99 ${ms(r.ours.p99_ms)}, ${Math.round(r.ours.per_second)}/s`,
          baseline: `p50 ${ms(r.legacy.p50_ms)}, p99 ${ms(r.legacy.p99_ms)}, ${Math.round(r.legacy.per_second)}/s`,
          ratio: r.legacy.p99_ms / r.ours.p99_ms,
          note: `ratio of p99${errors ? `; ${errors} non-2xx or socket errors` : ''}`,
        })
      }
    }
  } finally {
    await Promise.all([servers.ours.stop(), servers.legacy.stop()])
  }
  return out
}
