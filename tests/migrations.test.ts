/**
 * Migrations: applied once, recorded, a second run does nothing, two runs started together apply
 * each file exactly once, and a file edited after it was applied is refused.
 */
import { describe, expect, test } from 'bun:test'
import { openPglite, pgliteDb } from '../src/db/pglite.ts'
import { postgresDb } from '../src/db/postgres.ts'
import { loadMigrations, migrateAll, MigrationError, migrateTier, pendingMigrations } from '../src/db/migrate.ts'
import { TIER_NAMES, type TierName } from '../src/db/tier-names.ts'
import type { Db } from '../src/db/types.ts'
import { createPgDatabase, dropPgDatabases, engine } from './support/databases.ts'
import { useLeakCheck } from './support/leaks.ts'

useLeakCheck()

const sameDb = (db: Db) => Object.fromEntries(TIER_NAMES.map((t) => [t, db])) as Record<TierName, Db>

/** Two independent connections to one fresh, empty database. */
async function freshDatabase(): Promise<{ a: Db; b: Db; dispose(): Promise<void> }> {
  if (engine === 'pglite') {
    // One PGlite has one connection; two handles over it still interleave their awaits.
    const db = pgliteDb(await openPglite())
    return { a: db, b: { ...db, close: async () => {} }, dispose: () => db.close() }
  }
  const name = `edp_mig${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const url = await createPgDatabase(name)
  const a = postgresDb(url, { max: 2 })
  const b = postgresDb(url, { max: 2 })
  return {
    a,
    b,
    async dispose() {
      await Promise.all([a.close(), b.close()])
      await dropPgDatabases([name])
    },
  }
}

describe(`migrations on ${engine}`, () => {
  test('two concurrent runs apply each migration exactly once; a third run does nothing', async () => {
    const fresh = await freshDatabase()
    try {
      const [first, second] = await Promise.all([migrateAll(sameDb(fresh.a)), migrateAll(sameDb(fresh.b))])
      for (const tier of TIER_NAMES) {
        const expected = (await loadMigrations(tier)).map((m) => m.tag)
        expect([...first[tier], ...second[tier]].sort()).toEqual(expected.sort())
        expect(await pendingMigrations(fresh.a, tier)).toEqual([])
      }
      const ledger = await fresh.a.query<{ n: string }>(`SELECT count(*) AS n FROM edp_meta.migrations`)
      const total = (await Promise.all(TIER_NAMES.map(loadMigrations))).flat().length
      expect(Number(ledger[0]!.n)).toBe(total)

      const third = await migrateAll(sameDb(fresh.a))
      expect(Object.values(third).flat()).toEqual([])
      // pgmq really is there, with our queues.
      const queues = await fresh.a.query<{ queue_name: string }>(`SELECT queue_name FROM pgmq.list_queues() ORDER BY 1`)
      expect(queues.map((q) => q.queue_name)).toEqual(['dead_letters', 'events', 'jobs'])

      // A migration edited after it was applied is refused, and /ready would call the tier behind.
      await fresh.a.query(`UPDATE edp_meta.migrations SET hash = 'edited' WHERE tier = 'oltp' AND tag = '0000_init'`)
      expect(await pendingMigrations(fresh.a, 'oltp')).toEqual(['0000_init'])
      await expect(migrateTier(fresh.a, 'oltp')).rejects.toBeInstanceOf(MigrationError)
    } finally {
      await fresh.dispose()
    }
  }, 60_000)
})
