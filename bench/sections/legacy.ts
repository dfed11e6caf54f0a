/**
 * `legacy migrate` against a raw copy of the same rows, and what a migration does to the live API.
 * The source is a `npm run gen` dataset's legacy tables, only read (the raw copy writes beside
 * them in bench_meta). The target is a fresh database per phase holding the four tiers, with the
 * tenants, mailboxes, campaigns, steps, leads and retention policies the rows name copied in
 * (pg_dump | psql), so the source dataset's own 4-tier tables are never touched.
 * (1) `INSERT … SELECT` of the legacy rows and attachments into plain copies: the raw rate.
 * (2) `migrateLegacy` unthrottled, in-process, with the time of each step of a batch and how busy
 *     the machine's cores were.
 * (3) The real API (bin/start.ts) answering GET /v1/messages listings of a live tenant: p99 idle,
 *     then p99 while `bin/legacy.ts migrate` runs at its default throttle as its own process (for
 *     at most LISTING_WINDOW_S; a migration is resumable, so the process is then simply killed).
 * Sizes: quick (CI), full (8,000 messages, the routine run) and large (`--large`: the 1M-message
 * dataset the oltp section uses, generated once by `npm run gen -- --messages 1000000`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '../../src/db/types.ts'
import type { Deps } from '../../src/deps.ts'
import { parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader, openSource } from '../../src/legacy/source.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { dropDataset, ensureDataset } from '../dataset/load.ts'
import { cpuMeter, msPerItem } from '../lib/cpu.ts'
import { benchDatabase, databaseUrl } from '../lib/pg.ts'
import { loadConfig } from '../../src/config.ts'
import { buildDeps } from '../../src/system.ts'
import type { Row, Section } from '../lib/report.ts'
import { api, BENCH_ADMIN_TOKEN, startServer } from '../lib/server.ts'
import { percentile, round } from '../lib/stats.ts'

const SIZES = {
  quick: { options: { messages: 1_000, tenants: 3, seed: 1 }, database: 'edp_bench_dataset_legacy_quick', listingWindowS: 60 },
  full: { options: { messages: 8_000, tenants: 5, seed: 1 }, database: 'edp_bench_dataset_legacy', listingWindowS: 60 },
  large: { options: { messages: 1_000_000, tenants: 50, seed: 1 }, database: 'edp_bench_dataset', listingWindowS: 120 },
}
const MAPPING = { table: 'legacy.emails', attachments: { table: 'legacy.email_attachments', message_column: 'email_id' } }
const BATCH = 200
/** One master key for the benchmark's processes (in-process deps, the API, the migrate CLI), so each opens the others' data keys. */
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64')
const TARGET = 'edp_bench_legacy_target'
/** What a migration needs to exist on our side before it starts (the rows name them). */
const PARENTS = ['oltp.tenants', 'oltp.email_accounts', 'oltp.campaigns', 'oltp.sequence_steps', 'oltp.leads', 'content.retention_policies']

interface Target {
  url: string
  db: Db
  deps: Deps
  dispose(): Promise<void>
}

/** A fresh target: the four tiers migrated in one new database, the source's parents copied in. */
async function freshTarget(sourceUrl: string): Promise<Target> {
  const t = await benchDatabase(TARGET, 10)
  const url = databaseUrl(TARGET)
  const tables = PARENTS.map((name) => `--table=${name}`).join(' ')
  const copy = Bun.spawn(['bash', '-c', `set -o pipefail; pg_dump --data-only --disable-triggers ${tables} "$1" | psql -q -v ON_ERROR_STOP=1 "$2"`, 'copy', sourceUrl, url], {
    stdout: 'ignore',
    stderr: 'pipe',
  })
  if ((await copy.exited) !== 0) throw new Error(`copying the parents into the target failed: ${await new Response(copy.stderr).text()}`)
  await t.db.exec('ANALYZE')
  const deps = buildDeps(t.tiers, { config: loadConfig({ LOG_LEVEL: 'silent', CONTENT_MASTER_KEY: MASTER_KEY }) })
  return { url, db: t.db, deps, dispose: () => t.dispose() }
}

/** INSERT … SELECT of every legacy row and attachment into plain tables of the same columns. */
async function rawCopy(db: Db): Promise<{ rows: number; seconds: number }> {
  await db.exec(`CREATE SCHEMA IF NOT EXISTS bench_meta; DROP TABLE IF EXISTS bench_meta.copy_emails, bench_meta.copy_attachments;
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

export async function benchLegacy({ quick = false, large = false } = {}): Promise<Section> {
  const size = quick ? SIZES.quick : large ? SIZES.large : SIZES.full
  await ensureDataset(size.options, size.database)
  const sourceUrl = databaseUrl(size.database)
  const source = await openSource(sourceUrl)
  const mapping = parseMapping(MAPPING)
  const reader = new LegacyReader(source, mapping, await checkMapping(source, mapping))
  const rows: Row[] = []
  const data: Record<string, unknown> = { dataset: size.options, batch: BATCH }
  const dir = await mkdtemp(join(tmpdir(), 'edp-bench-legacy-'))
  let target: Target | undefined
  try {
    // The source's own writes (the raw copy) and reads start from the same state for both.
    await source.exec(`VACUUM ANALYZE legacy.emails`)
    await source.exec(`VACUUM ANALYZE legacy.email_attachments`)
    const rawMeter = cpuMeter()
    const raw = await rawCopy(source)
    const rawSpent = rawMeter()
    const rawRate = raw.rows / raw.seconds
    data.raw = { rows: raw.rows, seconds: round(raw.seconds), per_s: Math.round(rawRate), cpu_ms_per_row: msPerItem(rawSpent, raw.rows), machine_busy_pct: rawSpent.busy_pct }

    // (2) Unthrottled, in-process, profiled.
    target = await freshTarget(sourceUrl)
    const profile: Record<string, number> = {}
    const cpu = process.cpuUsage()
    const machine = cpuMeter()
    const m = await migrateLegacy(target.deps, { reader, run: 'bench', source: 'bench', tenant: null, batchSize: BATCH, rate: 0, profile })
    const used = process.cpuUsage(cpu)
    const spent = machine()
    const rate = m.rows / m.seconds
    // How much of the wall time this process spent on a core (the rest: the database, or waiting
    // for a core), and how busy the machine's cores were meanwhile (this process and PostgreSQL):
    // CPU per message, ours and the database's.
    data.process_cpu_pct = round(((used.user + used.system) / 1000 / (m.seconds * 1000)) * 100, 1)
    data.machine_busy_pct = spent.busy_pct
    data.cpu_ms_per_message = { all: msPerItem(spent, m.rows), this_process: round((used.user + used.system) / 1000 / m.rows, 3) }
    data.migrate = { rows: m.rows, seconds: round(m.seconds), per_s: Math.round(rate), expired: m.expired }
    data.profile_ms_per_batch = Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, round(v / m.batches, 1)]))
    data.profile_share_pct = Object.fromEntries(Object.entries(profile).map(([k, v]) => [k, round((v / (m.seconds * 1000)) * 100, 1)]))
    rows.push({
      benchmark: 'legacy migrate',
      case: `messages/s, unthrottled, batches of ${BATCH}, vs raw INSERT … SELECT of the same rows`,
      ours: `${Math.round(rate)} msg/s`,
      baseline: `${Math.round(rawRate)} rows/s`,
      ratio: rate / rawRate,
      note: `${m.rows.toLocaleString('en')} messages; CPU per message ${(data.cpu_ms_per_message as { all: number }).all} ms (this process ${(data.cpu_ms_per_message as { this_process: number }).this_process}) vs ${(data.raw as { cpu_ms_per_row: number }).cpu_ms_per_row} ms a copied row; cores busy ${data.machine_busy_pct}%; steps (overlapping, % of wall time): ${Object.entries(data.profile_share_pct as Record<string, number>).map(([k, v]) => `${k} ${v}%`).join(', ')}`,
    })
    await target.dispose()
    target = undefined
    if (!quick && !large) {
      target = await freshTarget(sourceUrl)
      const big = await migrateLegacy(target.deps, { reader, run: 'bench-500', source: 'bench', tenant: null, batchSize: 500, rate: 0 })
      data.migrate_batch_500 = { rows: big.rows, seconds: round(big.seconds), per_s: Math.round(big.rows / big.seconds) }
      rows.push({
        benchmark: 'legacy migrate',
        case: 'messages/s, unthrottled, batches of 500, vs the same raw copy',
        ours: `${Math.round(big.rows / big.seconds)} msg/s`,
        baseline: `${Math.round(rawRate)} rows/s`,
        ratio: big.rows / big.seconds / rawRate,
      })
      await target.dispose()
      target = undefined
    }

    // (3) Listing latency of the live API, idle and during a throttled migration.
    target = await freshTarget(sourceUrl)
    const server = await startServer(target.url, { CONTENT_MASTER_KEY: MASTER_KEY })
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
      const url = target.url
      const child = Bun.spawn([process.execPath, 'bin/legacy.ts', 'migrate', '--source', sourceUrl, '--mapping', mappingPath, '--run', 'bench-throttled'], {
        cwd: join(import.meta.dir, '..', '..'),
        env: { ...process.env, OLTP_DATABASE_URL: url, CONTENT_DATABASE_URL: url, ANALYTICS_DATABASE_URL: url, QUEUE_DATABASE_URL: url, LOG_LEVEL: 'warn', CONTENT_MASTER_KEY: MASTER_KEY },
        stdout: 'ignore',
        stderr: 'pipe',
      })
      let done = false
      void child.exited.then(() => (done = true))
      const started = performance.now()
      await Bun.sleep(1000) // past its start-up, into the batches
      const busy = await listings(server.url, key, account, 0, 2, () => done || performance.now() - started > size.listingWindowS * 1000)
      const seconds = (performance.now() - started) / 1000
      // A large migration is stopped at the window's end (it would resume from its checkpoint).
      const stopped = !done
      if (stopped) child.kill('SIGKILL')
      const code = await child.exited
      if (!stopped && code !== 0) throw new Error(`legacy migrate failed: ${await new Response(child.stderr).text()}`)
      const [migrated] = await target.db.query<{ n: string }>(`SELECT coalesce(sum(rows), 0) AS n FROM oltp.legacy_batches WHERE run = 'bench-throttled'`)
      const achieved = Math.round(Number(migrated!.n) / seconds)
      const p99 = { idle: percentile(idle, 99), busy: percentile(busy, 99) }
      data.listing = {
        idle: { n: idle.length, p50_ms: round(percentile(idle, 50)), p99_ms: round(p99.idle) },
        during: { n: busy.length, p50_ms: round(percentile(busy, 50)), p99_ms: round(p99.busy), seconds: round(seconds) },
        migrate_per_s: achieved,
      }
      rows.push({
        benchmark: 'legacy migrate',
        case: 'API listing p99 (GET /v1/messages, 2 clients) during a migration at the default throttle vs idle',
        ours: `${round(p99.busy, 1)} ms`,
        baseline: `${round(p99.idle, 1)} ms`,
        ratio: p99.idle / p99.busy,
        note: `migrate held ${achieved}/s for ${Math.round(seconds)} s; p50 ${round(percentile(busy, 50), 1)} vs ${round(percentile(idle, 50), 1)} ms; target: during ≤ 2x idle`,
      })
    } finally {
      await server.stop()
    }
  } finally {
    await target?.dispose()
    await rm(dir, { recursive: true, force: true })
    await source.close()
    // The quick dataset rebuilds in seconds: not left on a shared server (the full one is reused).
    if (quick) await dropDataset(size.database)
  }
  return { name: 'legacy', rows, data }
}
