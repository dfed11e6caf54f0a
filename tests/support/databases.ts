/**
 * The test process's databases. PGlite: one instance, loaded from a snapshot of a freshly
 * migrated database (cached under .cache/, keyed by a hash of the migrations), since initdb costs
 * seconds and loading a snapshot a fraction of one. PostgreSQL (TEST_PG_URL): four separate
 * throwaway databases, one per tier, so no code path can lean on a shared transaction.
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import type { Db } from '../../src/db/types.ts'
import { createDatabase, dropDatabase, loadCluster, type Cluster } from '../../scripts/citus/cluster.ts'

const ROOT = join(import.meta.dir, '..', '..')
export const TEST_PG_URL = process.env.TEST_PG_URL
export const engine: 'pglite' | 'postgres' = TEST_PG_URL ? 'postgres' : 'pglite'
/** The running Citus cluster the OLTP and content tiers go to, if TEST_CITUS_DIR names one (with TEST_PG_URL). */
export const TEST_CITUS_DIR = TEST_PG_URL ? process.env.TEST_CITUS_DIR : undefined
/** The tiers a Citus run puts on the cluster. */
const ON_CLUSTER: readonly TierName[] = ['oltp', 'content']
/** Few shards: each is a table on a worker, and every migration's DDL runs once per shard. */
const TEST_SHARD_COUNT = 4

let cluster: Promise<Cluster> | undefined
function testCluster(): Promise<Cluster> {
  cluster ??= loadCluster(TEST_CITUS_DIR!).then((c) => {
    if (!c) throw new Error(`TEST_CITUS_DIR=${TEST_CITUS_DIR} holds no cluster: npm run citus -- start --dir ${TEST_CITUS_DIR}`)
    return c
  })
  return cluster
}

async function migrationsHash(): Promise<string> {
  const h = createHash('sha256')
  h.update(JSON.parse(await readFile(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version)
  for (const tier of TIER_NAMES) {
    for (const f of (await readdir(join(ROOT, 'sql', tier))).sort()) {
      if (f.endsWith('.sql')) h.update(await readFile(join(ROOT, 'sql', tier, f)))
    }
  }
  return h.digest('hex').slice(0, 16)
}

/** A migrated PGlite snapshot, built once per migration set and reused by every later run. */
export async function migratedSnapshot(): Promise<Blob> {
  const dir = join(ROOT, '.cache')
  const path = join(dir, `pglite-${await migrationsHash()}.tar.gz`)
  const cached = await readFile(path).catch(() => undefined)
  if (cached) return new Blob([cached])
  const pg = await openPglite()
  const db = pgliteDb(pg)
  await migrateAll({ oltp: db, content: db, analytics: db, queue: db })
  const dump = await pg.dumpDataDir('gzip')
  await db.close()
  await mkdir(dir, { recursive: true })
  await writeFile(path, new Uint8Array(await dump.arrayBuffer()))
  return dump
}

export function adminUrl(database: string): string {
  const u = new URL(TEST_PG_URL!)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates a database on the test server and returns its URL. */
export async function createPgDatabase(name: string): Promise<string> {
  const admin = postgresDb(TEST_PG_URL!, { max: 1 })
  try {
    await admin.exec(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.close()
  }
  return adminUrl(name)
}

/** A database on the test cluster, with the extension on every node and few shards per table. */
async function createClusterDatabase(name: string): Promise<string> {
  const url = await createDatabase(await testCluster(), name)
  const db = postgresDb(url, { max: 1 })
  try {
    await db.exec(`ALTER DATABASE "${name}" SET citus.shard_count = ${TEST_SHARD_COUNT}`)
  } finally {
    await db.close()
  }
  return url
}

export async function dropPgDatabases(names: string[]): Promise<void> {
  const admin = postgresDb(TEST_PG_URL!, { max: 1 })
  try {
    for (const n of names) await admin.exec(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`)
  } finally {
    await admin.close()
  }
}

/** One fresh, empty database of the engine under test (no migrations), and how to remove it. */
export async function freshDatabase(prefix: string): Promise<{ db: Db; dispose(): Promise<void> }> {
  if (engine === 'pglite') {
    const db = pgliteDb(await openPglite())
    return { db, dispose: () => db.close() }
  }
  const name = `${prefix}${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const db = postgresDb(await createPgDatabase(name), { max: 1 })
  return {
    db,
    async dispose() {
      await db.close()
      await dropPgDatabases([name])
    },
  }
}

export interface TestDatabases {
  tiers: Tiers
  /** PostgreSQL only: the URL of each tier's database, for child processes. */
  urls?: Record<TierName, string>
  /** Removes everything the process created (PostgreSQL databases). */
  dispose(): Promise<void>
}

export async function openTestDatabases(): Promise<TestDatabases> {
  if (engine === 'pglite') {
    const db = pgliteDb(await openPglite({ loadDataDir: await migratedSnapshot() }), 'pglite:test')
    const tiers = tiersFrom({ oltp: db, content: db, analytics: db, queue: db })
    return { tiers, dispose: () => tiers.close() }
  }
  const prefix = `edp_t${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const names = TIER_NAMES.map((t) => `${prefix}_${t}`)
  const dbs = {} as Record<TierName, Db>
  const urls = {} as Record<TierName, string>
  const clustered = (tier: TierName) => TEST_CITUS_DIR !== undefined && ON_CLUSTER.includes(tier)
  for (const [i, tier] of TIER_NAMES.entries()) {
    urls[tier] = clustered(tier) ? await createClusterDatabase(names[i]!) : await createPgDatabase(names[i]!)
    dbs[tier] = postgresDb(urls[tier], { max: 4 })
  }
  await migrateAll(dbs)
  const tiers = tiersFrom(dbs)
  return {
    tiers,
    urls,
    async dispose() {
      await tiers.close()
      await dropPgDatabases(names.filter((_, i) => !clustered(TIER_NAMES[i]!)))
      const c = TEST_CITUS_DIR ? await testCluster() : undefined
      for (const [i, tier] of TIER_NAMES.entries()) if (c && clustered(tier)) await dropDatabase(c, names[i]!)
    },
  }
}

/** Rows a migration seeds: reset to their first state instead of deleted. */
const SEEDED: Record<string, string> = {
  'analytics.refresh_state':
    'UPDATE analytics.refresh_state SET dirty_since = NULL, scheduled_at = NULL, as_of = NULL, refreshed_at = NULL, duration_ms = NULL',
}

/** Empties every table of every tier (pgmq queues included), keeping the migration ledger. */
export async function truncateAll(tiers: Tiers): Promise<void> {
  for (const db of new Set(TIER_NAMES.map((t) => tiers[t]))) {
    const rows = await db.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname IN ('oltp', 'content', 'analytics', 'queue')
           OR (schemaname = 'pgmq' AND (tablename LIKE 'q\\_%' OR tablename LIKE 'a\\_%'))`,
    )
    const names = rows.map((r) => r.name)
    const plain = names.filter((n) => !(n in SEEDED))
    if (plain.length) await db.exec(`TRUNCATE ${plain.join(', ')} RESTART IDENTITY CASCADE`)
    for (const n of names.filter((n) => n in SEEDED)) await db.exec(SEEDED[n]!)
    // Materialized views hold data too.
    const views = await db.query<{ name: string }>(`SELECT format('%I.%I', schemaname, matviewname) AS name FROM pg_matviews WHERE schemaname = 'analytics'`)
    for (const v of views) await db.exec(`REFRESH MATERIALIZED VIEW ${v.name}`)
  }
}

/**
 * Row counts of every table in every tier, pgmq queues included: "nothing changed" checks compare
 * two. Waits for the outbox relay first: on separate databases it moves earlier writes' events
 * from the OLTP outbox to the queue in the background, which would look like a change. The audit
 * log is left out: a refused request is recorded there by design (tests/api/audit-trail.test.ts
 * checks what it holds).
 */
export async function rowCounts(sys: { tiers: Tiers; deps: { outbox: { kick(): Promise<number> } } }): Promise<Record<string, number>> {
  await sys.deps.outbox.kick()
  const tiers = sys.tiers
  const counts: Record<string, number> = {}
  for (const db of new Set(TIER_NAMES.map((t) => tiers[t]))) {
    const tables = await db.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname IN ('oltp', 'content', 'analytics', 'queue')
           OR (schemaname = 'pgmq' AND tablename LIKE 'q\\_%')`,
    )
    for (const { name } of tables) {
      if (name === 'oltp.audit_log') continue
      const [row] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)
      counts[name] = Number(row!.n)
    }
  }
  return counts
}
