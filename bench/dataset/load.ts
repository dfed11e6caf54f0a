/**
 * Loads one generated world into both designs in the same PostgreSQL database: the 4-tier
 * tables (OLTP refs, content objects with zstd bodies, deduplicated attachment blobs, analytics
 * through the same apply_events the workers call) and the legacy `emails` table with bodies
 * inline. Rows stream in with COPY, a chunk of messages at a time, every table's COPY of a chunk
 * running while the next chunk is generated. Indexes are in place throughout, as in production.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import postgres from 'postgres'
import { getTableName, type Table } from 'drizzle-orm'
import { packBody } from '../../src/tiers/content/codec.ts'
import { messageKey } from '../../src/storage-keys.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import type { Db } from '../../src/db/types.ts'
import { attachmentBlobs, attachments, contentObjects } from '../../src/tiers/content/schema.ts'
import { apiKeys, campaigns, emailAccounts, inboxMessageRefs, leads, sequenceSteps, tenants } from '../../src/tiers/oltp/schema.ts'
import { LEGACY_DDL } from '../legacy/schema.ts'
import { BENCH_PG_URL, databaseUrl } from '../lib/pg.ts'
import { progress } from '../lib/progress.ts'
import { attachmentBytes, buildPools, copyEscape, fill, type Pools } from '../../datagen/bodies.ts'
import { World, type GenMessage, type GenOptions, type Tenant } from '../../datagen/world.ts'

/** Bump when the generated data changes, so a cached dataset of an older shape is rebuilt. */
export const GENERATOR_VERSION = 1
const POOL_SIZE = 256
const CHUNK = 1000
const RETENTION_MS = 730 * 86_400_000

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

const N = '\\N'
const opt = (v: string | null | undefined) => (v == null ? N : v)
const iso = (d: Date) => d.toISOString()
const line = (cells: readonly (string | number)[]) => `${cells.join('\t')}\n`
const hexBytea = (b: Uint8Array | null) => (b ? `\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}` : N)

/** Lines joined into writes of about 1 MB: one socket write per line costs more than the copy. */
function* batches(lines: string[]) {
  let out = ''
  for (const l of lines) {
    out += l
    if (out.length >= 1 << 20) {
      yield out
      out = ''
    }
  }
  if (out) yield out
}

/** A table and the columns a COPY into it fills, checked against the table's drizzle schema. */
interface CopyTarget<K extends string> {
  table: string
  columns: readonly K[]
}

function target<T extends Table, const K extends keyof T['$inferInsert'] & string>(schema: string, table: T, columns: readonly K[]): CopyTarget<K> {
  return { table: `${schema}.${getTableName(table)}`, columns }
}

/** One COPY line from a row keyed by column name, in the target's column order. */
const row = <K extends string>(t: CopyTarget<K>, values: Record<K, string | number>) => line(t.columns.map((c) => values[c]))

/** Seconds spent in each table's COPY (they overlap: three run at once). */
const copySeconds: Record<string, number> = {}

async function copyIn(sql: postgres.Sql, { table, columns }: CopyTarget<string>, lines: string[]) {
  if (lines.length === 0) return
  const started = performance.now()
  const writable = await sql.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN`).writable()
  await pipeline(Readable.from(batches(lines)), writable)
  copySeconds[table] = (copySeconds[table] ?? 0) + (performance.now() - started) / 1000
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

const T = {
  tenants: target('oltp', tenants, ['id', 'name', 'created']),
  apiKeys: target('oltp', apiKeys, ['id', 'tenant_id', 'key_hash', 'prefix', 'name']),
  emailAccounts: target('oltp', emailAccounts, ['tenant_id', 'id', 'email_address']),
  campaigns: target('oltp', campaigns, ['tenant_id', 'id', 'name', 'status']),
  steps: target('oltp', sequenceSteps, ['tenant_id', 'id', 'campaign_id', 'step_number']),
  leads: target('oltp', leads, ['tenant_id', 'id', 'email', 'first_name', 'last_name']),
  // content_storage_key stays NULL: the default key is derived on read (src/storage-keys.ts).
  refs: target('oltp', inboxMessageRefs, [
    'tenant_id', 'id', 'email_account_id', 'campaign_id', 'sequence_step_id', 'lead_id', 'parent_message_id', 'direction',
    'message_type', 'from_email', 'to_email', 'subject', 'status', 'rfc822_message_id', 'created', 'updated',
  ]),
  content: target('content', contentObjects, [
    'storage_key', 'tenant_id', 'kind', 'content_text_packed', 'content_html_packed', 'headers', 'raw_size_bytes',
    'stored_size_bytes', 'compression_type', 'created', 'expires',
  ]),
  blobs: target('content', attachmentBlobs, ['tenant_id', 'sha256', 'size_bytes', 'content', 'created']),
  attachments: target('content', attachments, [
    'id', 'tenant_id', 'parent_storage_key', 'filename', 'mime_type', 'size_bytes', 'sha256', 'blob_sha256', 'storage_disposition', 'created',
  ]),
  // The legacy design is not ours: its columns are those of bench/legacy/schema.ts.
  legacy: {
    table: 'legacy.emails',
    columns: [
      'id', 'tenant_id', 'email_account_id', 'campaign_id', 'sequence_step_id', 'lead_id', 'parent_message_id', 'direction',
      'message_type', 'from_email', 'to_email', 'subject', 'status', 'message_id', 'content_text', 'content_html', 'headers', 'created', 'updated',
    ],
  },
  legacyAttachments: { table: 'legacy.email_attachments', columns: ['id', 'email_id', 'filename', 'mime_type', 'size_bytes', 'content', 'created'] },
} as const

async function entities(sql: postgres.Sql, world: Tenant[]) {
  const lines = { tenants: [] as string[], apiKeys: [] as string[], emailAccounts: [] as string[], campaigns: [] as string[], steps: [] as string[], leads: [] as string[] }
  for (const t of world) {
    lines.tenants.push(row(T.tenants, { id: t.id, name: t.name, created: iso(new Date(Number.parseInt(t.id.replace(/-/g, '').slice(0, 12), 16))) }))
    lines.apiKeys.push(row(T.apiKeys, { id: t.id, tenant_id: t.id, key_hash: t.keyHash, prefix: t.apiKey.slice(0, 12), name: 'bench' }))
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

interface Chunk {
  refs: string[]
  content: string[]
  blobs: string[]
  attachments: string[]
  legacy: string[]
  legacyAttachments: string[]
  /** Per message: its parent is in this chunk too. */
  parentInChunk: boolean[]
  rawBytes: number
}

interface AttachmentFile {
  bytes: Uint8Array
  sha: string
  /** COPY-ready bytea, kept for shared files so 10,000 legacy copies cost one encode. */
  copy: string
}

class ChunkBuilder {
  private readonly seenBlobs = new Set<string>()
  private readonly brochures = new Map<string, AttachmentFile>()

  constructor(private readonly pools: Pools) {}

  private file(m: GenMessage): AttachmentFile {
    const make = (identity: number): AttachmentFile => {
      const bytes = attachmentBytes(this.pools, identity, m.attachmentSize)
      return { bytes, sha: createHash('sha256').update(bytes).digest('hex'), copy: hexBytea(bytes) }
    }
    if (!m.attachmentShared) return make(m.index + 1)
    const key = `${m.tenant.id}/${m.campaignIndex}`
    let f = this.brochures.get(key)
    if (!f) this.brochures.set(key, (f = make(-(this.brochures.size + 1))))
    return f
  }

  build(messages: GenMessage[]): Chunk {
    const { pools } = this
    const c: Chunk = { refs: [], content: [], blobs: [], attachments: [], legacy: [], legacyAttachments: [], parentInChunk: [], rawBytes: 0 }
    const ids = new Set(messages.map((m) => m.id))
    for (const m of messages) {
      c.parentInChunk.push(m.parentId !== null && ids.has(m.parentId))
      const t = m.tenant
      const created = iso(m.created)
      const token = m.id.slice(24)
      const name = m.lead?.first ?? 'there'
      const text = pools.text[m.text]!
      const html = pools.html[m.html]!
      const headers = pools.headers[m.headers]!
      const bodyValues = [name, token]
      const headerValues = [m.rfc822Id, m.to, m.created.toUTCString(), token]
      const rawText = fill(text, text.raw, bodyValues)
      const rawHtml = fill(html, html.raw, bodyValues)
      const rawHeaders = fill(headers, headers.raw, headerValues)
      const copyHeaders = fill(headers, headers.copy, headerValues)
      const packed = packBody(rawText, rawHtml, 1024)
      c.rawBytes += packed.raw_size_bytes + rawHeaders.length
      const key = messageKey(t.id, m.id)
      const campaign = m.campaignIndex === null ? null : t.campaigns[m.campaignIndex]!.id
      const subject = copyEscape(m.subject)
      const meta = { campaign_id: opt(campaign), sequence_step_id: opt(m.stepId), lead_id: opt(m.lead?.id), parent_message_id: opt(m.parentId) }
      const common = { tenant_id: t.id, email_account_id: m.mailbox.id, ...meta, direction: m.direction, message_type: m.messageType }
      const addressed = { from_email: m.from, to_email: m.to, subject, status: m.status, created, updated: created }
      c.refs.push(row(T.refs, { id: m.id, ...common, ...addressed, rfc822_message_id: m.rfc822Id }))
      c.content.push(
        row(T.content, {
          storage_key: key,
          tenant_id: t.id,
          kind: m.direction,
          content_text_packed: hexBytea(packed.text_packed),
          content_html_packed: hexBytea(packed.html_packed),
          headers: copyHeaders,
          raw_size_bytes: packed.raw_size_bytes,
          stored_size_bytes: packed.stored_size_bytes,
          compression_type: packed.compression_type,
          created,
          expires: iso(new Date(m.created.getTime() + RETENTION_MS)),
        }),
      )
      c.legacy.push(
        row(T.legacy, {
          id: m.id,
          ...common,
          ...addressed,
          message_id: m.rfc822Id,
          content_text: fill(text, text.copy, bodyValues),
          content_html: fill(html, html.copy, bodyValues),
          headers: copyHeaders,
        }),
      )
      if (m.attachmentSize > 0) {
        const f = this.file(m)
        const filename = m.attachmentShared ? 'brochure.pdf' : `scan-${m.index}.pdf`
        const attachmentId = `${m.id.slice(0, 24)}${(m.index % 0xffffffffffff).toString(16).padStart(12, 'a')}`
        if (!this.seenBlobs.has(`${t.id}/${f.sha}`)) {
          this.seenBlobs.add(`${t.id}/${f.sha}`)
          c.blobs.push(row(T.blobs, { tenant_id: t.id, sha256: f.sha, size_bytes: f.bytes.length, content: f.copy, created }))
        }
        const file = { id: attachmentId, filename, mime_type: 'application/pdf', size_bytes: f.bytes.length, created }
        c.attachments.push(
          row(T.attachments, { ...file, tenant_id: t.id, parent_storage_key: key, sha256: f.sha, blob_sha256: f.sha, storage_disposition: 'attachment' }),
        )
        c.legacyAttachments.push(row(T.legacyAttachments, { ...file, email_id: m.id, content: f.copy }))
      }
    }
    return c
  }
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
  for (const view of ['campaign_analytics', 'mailbox_analytics', 'sequence_step_analytics']) {
    await sql.unsafe(`REFRESH MATERIALIZED VIEW analytics.${view}`)
  }
  await sql.unsafe(`UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL, as_of = now(), refreshed_at = now() WHERE id = 1`)
}

/** Drops and recreates `database`, migrates every tier into it, adds the legacy schema and loads the world. */
export async function generate(options: GenOptions, database: string): Promise<DatasetInfo> {
  const admin = postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
  await admin.unsafe(`CREATE DATABASE "${database}"`)
  await admin.end()
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
    return info
  }
  return generate(options, database)
}
