import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { Db, Queryable } from './types.ts'
import { TIER_NAMES, type TierName } from './tier-names.ts'
import { installPgmq } from './install-pgmq.ts'

const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url))
/** One advisory lock for every migration in a database: concurrent starts queue up behind it. */
const MIGRATION_LOCK = 7_301_552_019

interface JournalEntry {
  tag: string
}

export interface Migration {
  tier: TierName
  tag: string
  sql: string
  hash: string
}

const loaded = new Map<TierName, Promise<Migration[]>>()

/**
 * The migrations drizzle-kit's journal lists for a tier, in order. Read once per process: they
 * ship with the code, and /ready asks on every probe.
 */
export function loadMigrations(tier: TierName): Promise<Migration[]> {
  let migrations = loaded.get(tier)
  if (!migrations) {
    migrations = readMigrations(tier)
    loaded.set(tier, migrations)
    migrations.catch(() => loaded.delete(tier)) // a failed read is retried next time
  }
  return migrations
}

async function readMigrations(tier: TierName): Promise<Migration[]> {
  const journal = JSON.parse(await readFile(join(SQL_DIR, tier, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[]
  }
  return Promise.all(
    journal.entries.map(async ({ tag }) => {
      const sql = await readFile(join(SQL_DIR, tier, `${tag}.sql`), 'utf8')
      return { tier, tag, sql, hash: createHash('sha256').update(sql).digest('hex') }
    }),
  )
}

const createLedger = `
  CREATE SCHEMA IF NOT EXISTS edp_meta;
  CREATE TABLE IF NOT EXISTS edp_meta.migrations (
    tier text NOT NULL,
    tag text NOT NULL,
    hash text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tier, tag)
  );`

async function appliedMigrations(q: Queryable, tier: TierName) {
  const exists = await q.query<{ ok: boolean }>(`SELECT to_regclass('edp_meta.migrations') IS NOT NULL AS ok`)
  if (!exists[0]?.ok) return new Map<string, string>()
  const rows = await q.query<{ tag: string; hash: string }>(`SELECT tag, hash FROM edp_meta.migrations WHERE tier = $1`, [tier])
  return new Map(rows.map((r) => [r.tag, r.hash]))
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

/**
 * Applies a tier's pending migrations in one transaction under an advisory lock, so a second
 * run does nothing and two processes starting together apply each migration once.
 * Returns the tags it applied.
 */
export async function migrateTier(db: Db, tier: TierName): Promise<string[]> {
  const migrations = await loadMigrations(tier)
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK])
    await tx.exec(createLedger)
    if (tier === 'queue') await installPgmq(tx, db.engine)
    const applied = await appliedMigrations(tx, tier)
    const done: string[] = []
    for (const m of migrations) {
      const hash = applied.get(m.tag)
      if (hash === m.hash) continue
      if (hash !== undefined) {
        throw new MigrationError(`${tier}/${m.tag} changed after it was applied; migrations are append-only`)
      }
      await tx.exec(m.sql)
      await tx.query(`INSERT INTO edp_meta.migrations (tier, tag, hash) VALUES ($1, $2, $3)`, [tier, m.tag, m.hash])
      done.push(m.tag)
    }
    return done
  })
}

/** Tags not yet applied (or changed since): /ready reports a tier with any as not ready. */
export async function pendingMigrations(db: Queryable, tier: TierName): Promise<string[]> {
  const [migrations, applied] = await Promise.all([loadMigrations(tier), appliedMigrations(db, tier)])
  return migrations.filter((m) => applied.get(m.tag) !== m.hash).map((m) => m.tag)
}

export async function migrateAll(tiers: Record<TierName, Db>): Promise<Record<TierName, string[]>> {
  const result = {} as Record<TierName, string[]>
  // Sequential: tiers may share one database (and one PGlite connection).
  for (const tier of TIER_NAMES) result[tier] = await migrateTier(tiers[tier], tier)
  return result
}
