/**
 * Loads one generated world into both designs in the same PostgreSQL database: the 4-tier
 * tables (OLTP refs, content objects with zstd bodies, deduplicated attachment blobs, analytics
 * through the same apply_events the workers call) and the legacy `emails` table with bodies
 * inline. Rows stream in with COPY, a chunk of messages at a time, every table's COPY of a chunk
 * running while the next chunk is generated. Indexes are in place throughout, as in production.
 */
import { SCOPES } from '../../src/scopes.ts'
import postgres from 'postgres'
import { migrateAll } from '../../src/db/migrate.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import type { Db } from '../../src/db/types.ts'
import { LEGACY_DDL } from '../legacy/schema.ts'
import { BENCH_PG_URL, databaseUrl } from '../lib/pg.ts'
import { progress } from '../lib/progress.ts'
import { buildPools } from '../../datagen/bodies.ts'
import { ChunkBuilder } from './chunk.ts'
import { copyIn, copySeconds, iso, row, T } from './copy.ts'
import { World, type GenMessage, type GenOptions, type Tenant } from '../../datagen/world.ts'

/** The benchmark tenants' keys hold every scope, as the key made with a tenant does (src/services/tenants.ts). */
const EVERY_SCOPE = `{${SCOPES.join(',')}}`

/** Bump when the generated data changes, so a cached dataset of an older shape is rebuilt. */
export const GENERATOR_VERSION = 1
const POOL_SIZE = 256
const CHUNK = 1000

export interface DatasetInfo {
  database: string
  url: string
  options: GenOptions
  generator_version: number
  load_seconds: number
  analytics_seconds: number
  loaded_at: string
  /** What was loaded, by table. */
  rows: Record<string, number>
  /** Raw body + header bytes generated (what a client would have sent). */
  raw_bytes: number
}

/** The dataset database is kept between runs; bench_meta.dataset says what it holds. */
export async function readDatasetInfo(database: string): Promise<DatasetInfo | undefined> {
  const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`
    if (!exists) return undefined
  } finally {
    await admin.end()
  }
  const sql = postgres(databaseUrl(database), { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<{ info: DatasetInfo }[]>`SELECT info FROM bench_meta.dataset`.catch(() => [])
    return rows[0]?.info
  } finally {
    await sql.end()
  }
}

export function matches(info: DatasetInfo | undefined, o: GenOptions): info is DatasetInfo {
  return (
    info !== undefined &&
    info.generator_version === GENERATOR_VERSION &&
    info.options.messages === o.messages &&
    info.options.tenants === o.tenants &&
    info.options.seed === o.seed
  )
}
async function entities(sql: postgres.Sql, world: Tenant[]) {
  const lines = { tenants: [] as string[], apiKeys: [] as string[], emailAccounts: [] as string[], campaigns: [] as string[], steps: [] as string[], leads: [] as string[] }
  for (const t of world) {
    lines.tenants.push(row(T.tenants, { id: t.id, name: t.name, created: iso(new Date(Number.parseInt(t.id.replace(/-/g, '').slice(0, 12), 16))) }))
    lines.apiKeys.push(row(T.apiKeys, { id: t.id, tenant_id: t.id, key_hash: t.keyHash, prefix: t.apiKey.slice(0, 12), name: 'bench', scopes: EVERY_SCOPE }))
    for (const m of t.mailboxes) lines.emailAccounts.push(row(T.emailAccounts, { tenant_id: t.id, id: m.id, email_address: m.address }))
    for (const c of t.campaigns) {
      lines.campaigns.push(row(T.campaigns, { tenant_id: t.id, id: c.id, name: c.name, status: 'active' }))
      c.steps.forEach((s, k) => lines.steps.push(row(T.steps, { tenant_id: t.id, id: s, campaign_id: c.id, step_number: k + 1 })))
    }
    for (const l of t.leads) lines.leads.push(row(T.leads, { tenant_id: t.id, id: l.id, email: l.email, first_name: l.first, last_name: l.last }))
  }
  const counts: Record<string, number> = {}
  for (const k of Object.keys(lines) as (keyof typeof lines)[]) {
    await copyIn(sql, T[k], lines[k])
    counts[T[k].table] = lines[k].length
  }
  return counts
}
/** Applies the generated history's events through analytics.apply_events, as the workers would, then refreshes the views. */
async function loadAnalytics(sql: postgres.Sql, messages: number) {
  const bar = progress('analytics events', messages, 'messages')
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const [r] = await sql.unsafe<{ last: string | null; n: number }[]>(
      `WITH batch AS (
         SELECT * FROM oltp.inbox_message_refs WHERE id > $1 ORDER BY id LIMIT 5000
       ), events AS (
         SELECT jsonb_build_object('tenant_id', b.tenant_id, 'event_id', 'gen:sent:' || b.id, 'message_id', b.id, 'type', 'sent',
                  'occurred_at', b.created, 'email_account_id', b.email_account_id, 'campaign_id', b.campaign_id,
                  'sequence_step_id', b.sequence_step_id) AS e
           FROM batch b WHERE b.direction = 'outbound'
         UNION ALL
         SELECT jsonb_build_object('tenant_id', b.tenant_id, 'event_id', 'gen:answer:' || b.id, 'message_id', p.id,
                  'type', CASE b.message_type WHEN 'bounce' THEN 'bounced' WHEN 'auto_reply' THEN 'auto_replied' ELSE 'replied' END,
                  'occurred_at', b.created, 'email_account_id', p.email_account_id, 'campaign_id', p.campaign_id,
                  'sequence_step_id', p.sequence_step_id)
           FROM batch b JOIN oltp.inbox_message_refs p ON p.tenant_id = b.tenant_id AND p.id = b.parent_message_id
          WHERE b.direction = 'inbound' AND p.direction = 'outbound'
       )
       SELECT (SELECT max(id::text) FROM batch) AS last, (SELECT count(*) FROM batch)::int AS n,
              (SELECT applied FROM analytics.apply_events((SELECT coalesce(jsonb_agg(e), '[]') FROM events), interval '1 hour')) AS applied`,
      [after],
    )
    if (!r?.last) break
    after = r.last
    bar.tick(r.n)
  }
  bar.stop()
  // Nothing is waiting in the queue: every tenant is as of now.
  await sql.unsafe(`SELECT analytics.refresh_dirty(now(), '{}')`)
  await sql.unsafe(`UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL, as_of = now(), refreshed_at = now() WHERE id = 1`)
}

/** What a database the benchmarks made says about itself (COMMENT ON DATABASE), so they drop only their own. */
const MADE_BY_US = 'edp benchmark dataset (bench/gen.ts): npm run gen and npm run bench rebuild or drop it'

/** The database exists and is not a benchmark dataset: dropping it needs --force. */
export class NotOurDatabaseError extends Error {
  override name = 'NotOurDatabaseError'
}

/**
 * Whether `database` may be dropped without asking: it does not exist, or the benchmarks made it
 * (our comment on it, or, for datasets loaded before that comment, a bench_meta.dataset table).
 */
async function ours(admin: postgres.Sql, database: string): Promise<boolean> {
  const [row] = await admin<{ note: string | null }[]>`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = ${database}`
  if (!row) return true
  if (row.note === MADE_BY_US) return true
  const sql = postgres(databaseUrl(database), { max: 1, onnotice: () => {} })
  try {
    const [r] = await sql<{ ok: boolean }[]>`SELECT to_regclass('bench_meta.dataset') IS NOT NULL AS ok`
    return r?.ok === true
  } finally {
    await sql.end()
  }
}

async function dropIfOurs(admin: postgres.Sql, database: string, force: boolean): Promise<void> {
  if (!force && !(await ours(admin, database))) {
    const server = new URL(BENCH_PG_URL).host
    throw new NotOurDatabaseError(`the database ${database} on ${server} exists and was not made by the benchmarks; pass --force to drop and rebuild it`)
  }
  await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
}

/**
 * Drops and recreates `database`, migrates every tier into it, adds the legacy schema and loads
 * the world. A database the benchmarks did not make is dropped only with `force`.
 */
export async function generate(options: GenOptions, database: string, { force = false } = {}): Promise<DatasetInfo> {
  const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} })
  try {
    await dropIfOurs(admin, database, force)
    await admin.unsafe(`CREATE DATABASE "${database}"`)
    await admin.unsafe(`COMMENT ON DATABASE "${database}" IS '${MADE_BY_US}'`)
  } finally {
    await admin.end()
  }
  const url = databaseUrl(database)
  const db: Db = postgresDb(url, { max: 2, applicationName: 'edp-gen' })
  await migrateAll(Object.fromEntries(TIER_NAMES.map((t) => [t, db])) as Record<TierName, Db>)
  await db.exec(LEGACY_DDL)
  await db.exec(`CREATE SCHEMA bench_meta; CREATE TABLE bench_meta.dataset (info jsonb NOT NULL)`)
  await db.close()

  const sql = postgres(url, { max: 8, onnotice: () => {}, connection: { application_name: 'edp-gen' } })
  // A second client for the second legacy stream: two COPYs in flight on one postgres.js
  // client stalled here (both backends waiting for data that never came).
  const sql2 = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'edp-gen' } })
  const started = performance.now()
  try {
    const world = new World(options, POOL_SIZE)
    const rows: Record<string, number> = await entities(sql, world.tenants)
    const builder = new ChunkBuilder(buildPools(options.seed, POOL_SIZE))
    const count = (k: string, n: number) => (rows[k] = (rows[k] ?? 0) + n)
    let rawBytes = 0
    let inFlight: Promise<unknown> = Promise.resolve()
    const bar = progress('messages (both designs)', options.messages, 'messages')
    for (;;) {
      const batch: GenMessage[] = []
      for (let m: GenMessage | undefined; batch.length < CHUNK && (m = world.next()); ) batch.push(m)
      if (batch.length === 0) break
      const c = builder.build(batch)
      rawBytes += c.rawBytes
      await inFlight
      bar.tick(batch.length)
      // The content tier's tables in FK order, the refs, and the legacy tables in FK order, at once.
      inFlight = Promise.all([
        (async () => {
          await copyIn(sql, T.blobs, c.blobs)
          await copyIn(sql, T.content, c.content)
          await copyIn(sql, T.attachments, c.attachments)
        })(),
        copyIn(sql, T.refs, c.refs),
        // The legacy rows in two streams: PostgreSQL's pglz compresses them on the server, and
        // one backend doing that for 40 KB rows would leave the other core idle. A reply's parent
        // must be committed before its foreign key is checked, so replies to this chunk wait.
        (async () => {
          await Promise.all([
            copyIn(sql, T.legacy, c.legacy.filter((_, k) => k % 2 === 0 && !c.parentInChunk[k])),
            copyIn(sql2, T.legacy, c.legacy.filter((_, k) => k % 2 === 1 && !c.parentInChunk[k])),
          ])
          await copyIn(sql, T.legacy, c.legacy.filter((_, k) => c.parentInChunk[k]))
          await copyIn(sql, T.legacyAttachments, c.legacyAttachments)
        })(),
      ])
      count('oltp.inbox_message_refs', c.refs.length)
      count('content.content_objects', c.content.length)
      count('content.attachment_blobs', c.blobs.length)
      count('content.attachments', c.attachments.length)
      count('legacy.emails', c.legacy.length)
      count('legacy.email_attachments', c.legacyAttachments.length)
    }
    await inFlight
    bar.stop()
    console.error(Object.entries(copySeconds).map(([t, s]) => `${t} ${s.toFixed(1)} s`).join(', '))
    const loadSeconds = (performance.now() - started) / 1000
    const analyticsStarted = performance.now()
    await loadAnalytics(sql, options.messages)
    const analyticsSeconds = (performance.now() - analyticsStarted) / 1000
    console.error('vacuum analyze…')
    await sql.unsafe(`VACUUM ANALYZE`)
    const info: DatasetInfo = {
      database,
      url: url.replace(/:[^:@/]*@/, ':***@'),
      options,
      generator_version: GENERATOR_VERSION,
      load_seconds: Math.round(loadSeconds),
      analytics_seconds: Math.round(analyticsSeconds),
      loaded_at: new Date().toISOString(),
      rows,
      raw_bytes: rawBytes,
    }
    await sql`INSERT INTO bench_meta.dataset (info) VALUES (${sql.json(info as never)})`
    return info
  } finally {
    await Promise.all([sql.end(), sql2.end()])
  }
}

/** The dataset for these options, generated unless the database already holds exactly it. */
export async function ensureDataset(options: GenOptions, database: string): Promise<DatasetInfo> {
  const info = await readDatasetInfo(database)
  if (matches(info, options)) {
    console.error(`dataset ${database}: reusing ${options.messages.toLocaleString('en')} messages loaded ${info.loaded_at}`)
    // Datasets loaded before keys had scopes in the COPY hold keys with none: every request got 403.
    const sql = postgres(info.url, { max: 1, onnotice: () => {} })
    try {
      await sql`UPDATE oltp.api_keys SET scopes = ${EVERY_SCOPE}::text[] WHERE scopes = '{}'`
    } finally {
      await sql.end()
    }
    return info
  }
  return generate(options, database)
}

/** Drops a dataset database (the quick one: it rebuilds in seconds, so it is not left on a shared server). */
export async function dropDataset(database: string): Promise<void> {
  const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} })
  try {
    await dropIfOurs(admin, database, false)
  } finally {
    await admin.end()
  }
}
