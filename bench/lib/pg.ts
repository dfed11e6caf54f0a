import { postgresDb } from '../../src/db/postgres.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import type { Db } from '../../src/db/types.ts'
import { loadConfig } from '../../src/config.ts'
import { buildDeps } from '../../src/system.ts'

export const BENCH_PG_URL = process.env.BENCH_PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export function databaseUrl(database: string) {
  const u = new URL(BENCH_PG_URL)
  u.pathname = `/${database}`
  return u.toString()
}

/** A fresh, migrated database on the benchmark server with every tier in it; dropped by dispose(). */
export async function benchDatabase(name: string, poolMax = 20): Promise<{ tiers: Tiers; db: Db; dispose(): Promise<void> }> {
  const admin = postgresDb(BENCH_PG_URL, { max: 1 })
  await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  await admin.exec(`CREATE DATABASE "${name}"`)
  const db = postgresDb(databaseUrl(name), { max: poolMax, applicationName: 'edp-bench' })
  const dbs = Object.fromEntries(TIER_NAMES.map((t) => [t, db])) as Record<TierName, Db>
  await migrateAll(dbs)
  return {
    tiers: tiersFrom(dbs),
    db,
    async dispose() {
      await db.close()
      await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await admin.close()
    },
  }
}

export async function serverVersion(db: Db): Promise<string> {
  const [r] = await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)
  return r!.v
}

/** A fixed content master key: benchmarks keep nothing, and must not generate one under ./data. */
const BENCH_MASTER_KEY = Buffer.alloc(32, 1).toString('base64')

/** The one Deps the benchmarks build over their tiers: silent logs, no HTTP; `sealContent: false` writes content in the clear. */
export const benchDeps = (tiers: Tiers, { sealContent }: { sealContent?: boolean } = {}) =>
  buildDeps(tiers, { config: loadConfig({ LOG_LEVEL: 'silent', CONTENT_MASTER_KEY: BENCH_MASTER_KEY }), sealContent })
