/**
 * Deploys that do not stop writes: the runner refuses a migration that would lock a large table
 * for as long as the table is big, and runs a `-- edp:no-transaction` migration (CREATE INDEX
 * CONCURRENTLY) outside a transaction, once, rebuilding an index a crashed build left invalid.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { useSystem } from './support/system.ts'
import { loadMigrations, MigrationError, migrateTier, type Migration } from '../src/db/migrate.ts'
import { lockHazards } from '../src/db/migration-safety.ts'

const sys = useSystem()

const migration = (tag: string, sql: string): Migration => ({ tier: 'oltp', tag, sql, hash: createHash('sha256').update(sql).digest('hex') })

afterEach(async () => {
  await sys.tiers.oltp.query(`DELETE FROM edp_meta.migrations WHERE tier = 'oltp' AND tag LIKE '9%'`)
  await sys.tiers.oltp.exec(`DROP INDEX IF EXISTS oltp.refs_test_subject; DROP TABLE IF EXISTS oltp.safety_test`)
})

describe('lock hazards', () => {
  test('each way of locking a large table for its whole length is named, with what to do instead', () => {
    const cases = [
      `CREATE INDEX "refs_subject" ON "oltp"."inbox_message_refs" USING btree ("subject")`,
      `CREATE UNIQUE INDEX IF NOT EXISTS refs_x ON oltp.inbox_message_refs (id)`,
      `ALTER TABLE "oltp"."leads" ALTER COLUMN "email" SET DATA TYPE varchar(320)`,
      `ALTER TABLE "oltp"."leads" ADD CONSTRAINT "leads_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id")`,
      `ALTER TABLE oltp.inbox_message_refs ALTER COLUMN subject SET NOT NULL`,
      `ALTER TABLE oltp.inbox_message_refs ADD COLUMN seen_at timestamptz DEFAULT now()`,
      `UPDATE oltp.inbox_message_refs SET status = 'sent' WHERE status IS NULL`,
      `DELETE FROM oltp.audit_log`,
    ]
    for (const sql of cases) expect({ sql, hazards: lockHazards('oltp', sql).length }).toEqual({ sql, hazards: 1 })
    expect(lockHazards('oltp', cases[0]!)[0]).toContain('CONCURRENTLY')
  })

  test('the safe forms pass, and so does anything on a table the same migration creates or a small one', () => {
    const safe = [
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS refs_subject ON oltp.inbox_message_refs (subject)`,
      `ALTER TABLE "oltp"."leads" ADD CONSTRAINT "leads_fk" FOREIGN KEY ("tenant_id") REFERENCES "oltp"."tenants"("id") NOT VALID`,
      `ALTER TABLE oltp.inbox_message_refs ADD COLUMN note text DEFAULT 'x'`,
      `CREATE INDEX tenants_name ON oltp.tenants (name)`,
      `CREATE TABLE "oltp"."fresh" ("id" uuid); --> statement-breakpoint\nCREATE INDEX "fresh_id" ON "oltp"."fresh" ("id")`,
      // SET NOT NULL the way its hazard says: it trusts the CHECK validated before it.
      `ALTER TABLE oltp.leads ADD CONSTRAINT nn CHECK (email IS NOT NULL) NOT VALID; --> statement-breakpoint
       ALTER TABLE oltp.leads VALIDATE CONSTRAINT nn; --> statement-breakpoint
       ALTER TABLE oltp.leads ALTER COLUMN email SET NOT NULL`,
    ]
    for (const sql of safe) expect({ sql, hazards: lockHazards('oltp', sql) }).toEqual({ sql, hazards: [] })
  })
})

describe('the runner', () => {
  test('refuses a migration with a hazard, naming it, and applies none of the pending ones', async () => {
    const shipped = await loadMigrations('oltp')
    const pending = [
      migration('9001_test_table', `CREATE TABLE oltp.safety_test (id int)`),
      migration('9002_test_blocking_index', `CREATE INDEX "refs_test_subject" ON "oltp"."inbox_message_refs" ("subject")`),
    ]
    const err = await migrateTier(sys.tiers.oltp, 'oltp', [...shipped, ...pending]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigrationError)
    expect((err as Error).message).toContain('9002_test_blocking_index: oltp.inbox_message_refs')
    const [t] = await sys.tiers.oltp.query<{ t: string | null }>(`SELECT to_regclass('oltp.safety_test')::text AS t`)
    expect(t!.t).toBeNull()
  })

  test('a no-transaction migration builds its index concurrently, once; an invalid index a crash left is rebuilt', async () => {
    const shipped = await loadMigrations('oltp')
    const sql = `-- edp:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "refs_test_subject" ON "oltp"."inbox_message_refs" USING btree ("subject");\n`
    const valid = async () =>
      (await sys.tiers.oltp.query<{ v: boolean | null }>(`SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('oltp.refs_test_subject')) AS v`))[0]!.v
    expect(await migrateTier(sys.tiers.oltp, 'oltp', [...shipped, migration('9003_test_concurrent_index', sql)])).toEqual(['9003_test_concurrent_index'])
    expect(await valid()).toBe(true)
    expect(await migrateTier(sys.tiers.oltp, 'oltp', [...shipped, migration('9003_test_concurrent_index', sql)])).toEqual([])

    // A build that died half way: the index is there but invalid, and the ledger never got its row.
    await sys.tiers.oltp.query(`DELETE FROM edp_meta.migrations WHERE tier = 'oltp' AND tag = '9003_test_concurrent_index'`)
    await sys.tiers.oltp.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass('oltp.refs_test_subject')`)
    expect(await valid()).toBe(false)
    expect(await migrateTier(sys.tiers.oltp, 'oltp', [...shipped, migration('9003_test_concurrent_index', sql)])).toEqual(['9003_test_concurrent_index'])
    expect(await valid()).toBe(true)
  })

  test('the shipped migrations pass the check (a new one that does not fails here first)', async () => {
    for (const tier of ['oltp', 'content', 'analytics', 'queue'] as const) {
      await expect(migrateTier(sys.tiers[tier], tier)).resolves.toEqual([])
    }
  })
})
