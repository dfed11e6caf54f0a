/**
 * `legacy migrate` against a raw copy of the same rows, and what a migration does to the live API.
 * The dataset is `npm run gen`'s (both designs in one database) at a modest size: its legacy
 * tables are the source, and the 4-tier message tables of the same database, emptied first, are
 * the target (the tenants, mailboxes, campaigns and leads the rows name are already there).
 * (1) `INSERT … SELECT` of the legacy rows and attachments into plain copies: the raw rate.
 * (2) `migrateLegacy` unthrottled, in-process, with the time of each step of a batch.
 * (3) The real API (bin/start.ts) answering GET /v1/messages listings of a live tenant: p99 idle,
 * then p99 while `bin/legacy.ts migrate` runs at its default throttle as its own process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tiersFrom } from '../../src/db/tiers.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import type { Db } from '../../src/db/types.ts'
import { parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader, openSource } from '../../src/legacy/source.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { dropDataset, ensureDataset } from '../dataset/load.ts'
import { databaseUrl } from '../lib/pg.ts'
import { loadConfig } from '../../src/config.ts'
import { buildDeps } from '../../src/system.ts'
import type { Row, Section } from '../lib/report.ts'
import { api, BENCH_ADMIN_TOKEN, startServer } from '../lib/server.ts'
import { percentile, round } from '../lib/stats.ts'

const SIZES = {
  full: { options: { messages: 8_000, tenants: 5, seed: 1 }, database: 'edp_bench_dataset_legacy' },
  quick: { options: { messages: 1_000, tenants: 3, seed: 1 }, database: 'edp_bench_dataset_legacy_quick' },
}
const MAPPING = { table: 'legacy.emails', attachments: { table: 'legacy.email_attachments', message_column: 'email_id' } }
const BATCH = 200
/** One master key for the benchmark's processes (in-process deps, the API, the migrate CLI), so each opens the others' data keys. */
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64')

/** The target emptied: no migrated (or generated) message left, so every legacy row is new to it. */
async function emptyTarget(db: Db) {
  await db.exec(`DELETE FROM oltp.legacy_ids; DELETE FROM oltp.legacy_batches; DELETE FROM oltp.legacy_runs;
    TRUNCATE oltp.inbox_message_refs, content.attachments, content.attachment_blobs, content.content_objects CASCADE;
    DELETE FROM content.tenant_keys`)
}

/** INSERT … SELECT of every legacy row and attachment into plain tables of the same columns. */
async function rawCopy(db: Db): Promise<{ rows: number; seconds: number }> {
  await db.exec(`DROP TABLE IF EXISTS bench_meta.copy_emails, bench_meta.copy_attachments;
    CREATE TABLE bench_meta.copy_emails (LIKE legacy.emails); CREATE TABLE bench_meta.copy_attachments (LIKE legacy.email_attachments)`)
  const t = performance.now()
  const [r] = await db.query<{ n: string }>(`WITH c AS (INSERT INTO bench_meta.copy_emails SELECT * FROM legacy.emails RETURNING 1) SELECT count(*) AS n FROM c`)
  await db.query(`INSERT INTO bench_meta.copy_attachments SELECT * FROM legacy.email_attachments`)
  const seconds = (performance.now() - t) / 1000
  await db.exec(`DROP TABLE bench_meta.copy_emails, bench_meta.copy_attachments`)
  return { rows: Number(r!.n), seconds }
}

/** `n` listings of one mailbox by `clients` concurrent clients; milliseconds each. */
async function listings(base: string, key: string, account: string, n: number, clients = 2, until?: () => boolean): Promise<number[]> {
  const ms: number[] = []
  let sent = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (until ? !until() : sent < n) {
        sent++
        const t = performance.now()
        const res = await fetch(`${base}/v1/messages?email_account_id=${account}&limit=50`, { headers: { authorization: `Bearer ${key}` } })
        await res.arrayBuffer()
        if (res.status !== 200) throw new Error(`listing answered ${res.status}`)
        ms.push(performance.now() - t)
      }
    }),
  )
  return ms
}

export async function benchLegacy({ quick = false } = {}): Promise<Section> {
  const size = quick ? SIZES.quick : SIZES.full
  await ensureDataset(size.options, size.database)
  const url = databaseUrl(size.database)
  const db = postgresDb(url, { max: 10, applicationName: 'edp-bench' })
  const tiers = tiersFrom(Object.fromEntries(TIER_NAMES.map((t) => [t, db])) as Record<TierName, Db>)
  const deps = buildDeps(tiers, { config: loadConfig({ LOG_LEVEL: 'silent', CONTENT_MASTER_KEY: MASTER_KEY }) })
  const source = await openSource(url)
  const mapping = parseMapping(MAPPING)
  const reader = new LegacyReader(source, mapping, await checkMapping(source, mapping))
  const rows: Row[] = []
  const data: Record<string, unknown> = { dataset: size.options, batch: BATCH }
  const dir = await mkdtemp(join(tmpdir(), 'edp-bench-legacy-'))
  try {
    await emptyTarget(db)
    await db.exec(`VACUUM ANALYZE`)
    const raw = await rawCopy(db)
    const rawRate = raw.rows / raw.seconds

    // (2) Unthrottled, in-process, profiled.
    const profile: Record<string, number> = {}
    const cpu = process.cpuUsage()
    const m = await migrateLegacy(deps, { reader, run: 'bench', source: 'bench', tenant: null, batchSize: BATCH, rate: 0, profile })
    const used = process.cpuUsage(cpu)
    const rate = m.rows / m.seconds
    // How much of the wall time this process spent on a core (the rest: the database, or waiting for a core).
    data.process_cpu_pct = round(((used.user + used.system) / 1000 / (m.seconds * 1000)) * 100, 1)
    data.raw = { rows: raw.rows, seconds: round(raw.seconds), per_s: Math.round(rawRate) }
    data.migrate = { rows: m.rows, seconds: round(m.seconds), per_s: Math.round(rate) }
    data.profile_ms_per_batch = Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, round(v / m.batches, 1)]))
    data.profile_share_pct = Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, round((v / (m.seconds * 1000)) * 100, 1)]))
    rows.push({
      benchmark: 'legacy migrate',
      case: `messages/s, unthrottled, batches of ${BATCH}, vs raw INSERT … SELECT of the same rows`,
      ours: `${Math.round(rate)} msg/s`,
      baseline: `${Math.round(rawRate)} rows/s`,
      ratio: rate / rawRate,
      note: `${m.rows} messages; this process on a core ${data.process_cpu_pct}% of the time; steps (overlapping, % of wall time): ${Object.entries(data.profile_share_pct as Record<string, number>).map(([k, v]) => `${k} ${v}%`).join(', ')}`,
    })
    await rollbackLegacy(deps)
    await emptyTarget(db)
    if (!quick) {
      const big = await migrateLegacy(deps, { reader, run: 'bench-500', source: 'bench', tenant: null, batchSize: 500, rate: 0 })
      data.migrate_batch_500 = { rows: big.rows, seconds: round(big.seconds), per_s: Math.round(big.rows / big.seconds) }
      rows.push({
        benchmark: 'legacy migrate',
        case: 'messages/s, unthrottled, batches of 500, vs the same raw copy',
        ours: `${Math.round(big.rows / big.seconds)} msg/s`,
        baseline: `${Math.round(rawRate)} rows/s`,
        ratio: big.rows / big.seconds / rawRate,
      })
      await rollbackLegacy(deps)
      await emptyTarget(db)
    }

    // (3) Listing latency of the live API, idle and during a throttled migration.
    const server = await startServer(url, { CONTENT_MASTER_KEY: MASTER_KEY })
    try {
      const created = await api(server.url, BENCH_ADMIN_TOKEN, 'POST', '/v1/tenants', { name: 'bench-live' })
      const key = created.api_key as string
      const account = (await api(server.url, key, 'POST', '/v1/email-accounts', { email_address: 'live@bench.test' })).id as string
      for (let i = 0; i < 120; i++) {
        await api(server.url, key, 'POST', '/v1/messages', { email_account_id: account, from_email: 'live@bench.test', to_email: `lead${i}@example.com`, subject: `live ${i}`, content_text: 'hello '.repeat(50) })
      }
      await listings(server.url, key, account, 100) // warm-up
      const idle = await listings(server.url, key, account, quick ? 200 : 600)
      const mappingPath = join(dir, 'mapping.json')
      await writeFile(mappingPath, JSON.stringify(MAPPING))
      const child = Bun.spawn([process.execPath, 'bin/legacy.ts', 'migrate', '--source', url, '--mapping', mappingPath, '--run', 'bench-throttled'], {
        cwd: join(import.meta.dir, '..', '..'),
        env: { ...process.env, OLTP_DATABASE_URL: url, CONTENT_DATABASE_URL: url, ANALYTICS_DATABASE_URL: url, QUEUE_DATABASE_URL: url, LOG_LEVEL: 'warn', CONTENT_MASTER_KEY: MASTER_KEY },
        stdout: 'pipe',
        stderr: 'ignore',
      })
      let done = false
      void child.exited.then(() => (done = true))
      await Bun.sleep(1000) // past its start-up, into the batches
      const busy = await listings(server.url, key, account, 0, 2, () => done)
      const out = await new Response(child.stdout).text()
      if ((await child.exited) !== 0) throw new Error(`legacy migrate failed: ${out}`)
      const achieved = /\((\d+)\/s\)/.exec(out)?.[1]
      const p99 = { idle: percentile(idle, 99), busy: percentile(busy, 99) }
      data.listing = {
        idle: { n: idle.length, p50_ms: round(percentile(idle, 50)), p99_ms: round(p99.idle) },
        during: { n: busy.length, p50_ms: round(percentile(busy, 50)), p99_ms: round(p99.busy) },
        migrate_per_s: Number(achieved),
      }
      rows.push({
        benchmark: 'legacy migrate',
        case: 'API listing p99 (GET /v1/messages, 2 clients) during a migration at the default throttle vs idle',
        ours: `${round(p99.busy, 1)} ms`,
        baseline: `${round(p99.idle, 1)} ms`,
        ratio: p99.idle / p99.busy,
        note: `migrate held ${achieved}/s; p50 ${round(percentile(busy, 50), 1)} vs ${round(percentile(idle, 50), 1)} ms; target: during ≤ 2x idle`,
      })
    } finally {
      await server.stop()
    }
    await rollbackLegacy(deps)
    await emptyTarget(db)
  } finally {
    await rm(dir, { recursive: true, force: true })
    await source.close()
    await db.close()
    // The quick dataset rebuilds in seconds: not left on a shared server (the full one is reused).
    if (quick) await dropDataset(size.database)
  }
  return { name: 'legacy', rows, data }
}
