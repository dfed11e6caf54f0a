import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import type { Db, Queryable } from './types.ts'
import { TIER_NAMES, type TierName } from './tier-names.ts'
import { distributeTier } from './distribution.ts'
import { installPgmq } from './install-pgmq.ts'
import { concurrentIndexName, isChecked, lockHazards, NO_TRANSACTION, statements } from './migration-safety.ts'

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
  );
  CREATE TABLE IF NOT EXISTS edp_meta.migration_claims (
    tier text NOT NULL,
    tag text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tier, tag)
  );`

/** A no-transaction migration claimed this long ago by a process that never finished it is taken over. */
const CLAIM_STALE_S = 15 * 60
const CLAIM_POLL_MS = 500

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
 * Applies a tier's pending migrations under an advisory lock, so a second run does nothing and
 * two processes starting together apply each migration once: consecutive ordinary migrations in
 * one transaction, a `-- edp:no-transaction` one (CREATE INDEX CONCURRENTLY) on its own between
 * them. A migration that would lock a large table for its whole length is refused before anything
 * is applied (src/db/migration-safety.ts). On a Citus coordinator, the tier's tables are then
 * distributed as src/db/distribution.ts lays them out. Returns the tags it applied.
 */
export async function migrateTier(db: Db, tier: TierName, given?: Migration[]): Promise<string[]> {
  const migrations = given ?? (await loadMigrations(tier))
  const hazards = migrations.filter((m) => isChecked(tier, m.tag)).flatMap((m) => lockHazards(tier, m.sql).map((h) => `${m.tag}: ${h}`))
  if (hazards.length) throw new MigrationError(`${tier} migrations would stop writes, none applied:\n  ${hazards.join('\n  ')}`)
  const done: string[] = []
  for (;;) {
    const outside = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK])
      await tx.exec(createLedger)
      if (tier === 'queue') await installPgmq(tx, db.engine)
      const applied = await appliedMigrations(tx, tier)
      for (const m of migrations) {
        const hash = applied.get(m.tag)
        if (hash === m.hash) continue
        if (hash !== undefined) {
          throw new MigrationError(`${tier}/${m.tag} changed after it was applied; migrations are append-only`)
        }
        if (NO_TRANSACTION.test(m.sql)) return m
        await tx.exec(m.sql)
        await tx.query(`INSERT INTO edp_meta.migrations (tier, tag, hash) VALUES ($1, $2, $3)`, [tier, m.tag, m.hash])
        done.push(m.tag)
      }
      await distributeTier(tx, tier)
      return null
    })
    if (!outside) return done
    if (await applyOutsideTransaction(db, outside)) done.push(outside.tag)
  }
}

/**
 * Runs a no-transaction migration statement by statement, claimed in the ledger so one process
 * runs it while the others wait for its ledger row. Its statements must be safe to repeat (a
 * crash leaves it half done); an index a crashed CREATE INDEX CONCURRENTLY left invalid is
 * dropped before it is built again. False when another process applied it meanwhile.
 */
async function applyOutsideTransaction(db: Db, m: Migration): Promise<boolean> {
  for (;;) {
    const state = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK])
      if ((await appliedMigrations(tx, m.tier)).get(m.tag) === m.hash) return 'applied'
      const [claim] = await tx.query<{ fresh: boolean }>(
        `SELECT claimed_at > now() - make_interval(secs => $3) AS fresh FROM edp_meta.migration_claims WHERE tier = $1 AND tag = $2`,
        [m.tier, m.tag, CLAIM_STALE_S],
      )
      if (claim?.fresh) return 'claimed'
      await tx.query(
        `INSERT INTO edp_meta.migration_claims (tier, tag) VALUES ($1, $2) ON CONFLICT (tier, tag) DO UPDATE SET claimed_at = now()`,
        [m.tier, m.tag],
      )
      return 'mine'
    })
    if (state === 'applied') return false
    if (state === 'mine') break
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS))
  }
  for (const statement of statements(m.sql)) {
    const index = concurrentIndexName(statement)
    if (index) {
      const [left] = await db.query<{ invalid: boolean }>(
        `SELECT NOT i.indisvalid AS invalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)`,
        [index],
      )
      if (left?.invalid) await db.exec(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`)
    }
    await db.exec(statement)
  }
  // Under the lock: a process checking the claim must see the ledger row and the claim's removal together.
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1)`, [MIGRATION_LOCK])
    await tx.query(`INSERT INTO edp_meta.migrations (tier, tag, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [m.tier, m.tag, m.hash])
    await tx.query(`DELETE FROM edp_meta.migration_claims WHERE tier = $1 AND tag = $2`, [m.tier, m.tag])
  })
  return true
}

/** Tags not yet applied (or changed since): /ready reports a tier with any as not ready. */
export async function pendingMigrations(db: Queryable, tier: TierName): Promise<string[]> {
  const [migrations, applied] = await Promise.all([loadMigrations(tier), appliedMigrations(db, tier)])
  return migrations.filter((m) => applied.get(m.tag) !== m.hash).map((m) => m.tag)
}

/**
 * Throws MigrationError naming every tier's pending migrations, if any: what a process that must
 * not run on an older schema (workers, with MIGRATE_ON_START=false) checks before it starts.
 */
export async function assertMigrated(tiers: Record<TierName, Db>): Promise<void> {
  const behind: string[] = []
  for (const tier of TIER_NAMES) {
    const tags = await pendingMigrations(tiers[tier], tier)
    if (tags.length) behind.push(`${tier} ${tags.length > 2 ? `${tags.length} (${tags[0]} … ${tags.at(-1)})` : tags.join(', ')}`)
  }
  if (behind.length) throw new MigrationError(`the schema is behind this code (pending ${behind.join('; ')}); run \`npm run migrate\` first`)
}

export async function migrateAll(tiers: Record<TierName, Db>): Promise<Record<TierName, string[]>> {
  const result = {} as Record<TierName, string[]>
  // Sequential: tiers may share one database (and one PGlite connection).
  for (const tier of TIER_NAMES) result[tier] = await migrateTier(tiers[tier], tier)
  return result
}
