/**
 * Migrations 0017-0018 on a database with history: the outbox and the audit log are re-keyed by
 * (tenant_id, id). Operator entries written with a NULL tenant (more than one backfill batch of
 * them) come out naming the nil uuid and still read back with tenant_id null; a tenant's entries and
 * an outbox row written by the previous release keep everything, and the new first migration can
 * run again over its own result (a crash may leave it half done).
 */
import { expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { loadMigrations, migrateTier } from '../src/db/migrate.ts'
import { statements } from '../src/db/migration-safety.ts'
import type { Db } from '../src/db/types.ts'
import { listAudit, NO_TENANT } from '../src/tiers/oltp/audit-log.ts'
import { engine, freshDatabase } from './support/databases.ts'
import { useLeakCheck } from './support/leaks.ts'

useLeakCheck()

const FIRST = '0017_outbox_audit_tenant_keys'
const OPERATOR_ROWS = 12_000 // the backfill changes 5,000 a transaction: three batches

const keyColumns = (db: Db, table: string) =>
  db.query<{ col: string }>(
    `SELECT a.attname AS col FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n`,
    [table],
  )

test(`${FIRST}: operator entries get the nil tenant in batches, keys lead with tenant_id, nothing else changes (${engine})`, async () => {
  const { db, dispose } = await freshDatabase('edp_tk')
  try {
    const all = await loadMigrations('oltp')
    const at = all.findIndex((m) => m.tag === FIRST)
    expect(at).toBeGreaterThan(0)
    await migrateTier(db, 'oltp', all.slice(0, at))

    const tenant = randomUUID()
    await db.query(`INSERT INTO oltp.tenants (id, name) VALUES ($1, 'history')`, [tenant])
    await db.query(
      `INSERT INTO oltp.audit_log (tenant_id, actor, action) SELECT NULL, 'admin', 'tenant.create' FROM generate_series(1, $1)`,
      [OPERATOR_ROWS],
    )
    await db.query(`INSERT INTO oltp.audit_log (tenant_id, actor, action, target_id) VALUES ($1, 'api_key:k', 'message.create', 'm1')`, [tenant])
    await db.query(`INSERT INTO oltp.outbox (queue, payload) VALUES ('jobs', '{"job":"erasure.run"}')`)

    await migrateTier(db, 'oltp', all)

    const counts = await db.query<{ tenant_id: string | null; n: number }>(
      `SELECT tenant_id, count(*)::int AS n FROM oltp.audit_log GROUP BY tenant_id ORDER BY n DESC`,
    )
    expect(counts).toEqual([
      { tenant_id: NO_TENANT, n: OPERATOR_ROWS },
      { tenant_id: tenant, n: 1 },
    ])
    const [outbox] = await db.query<{ tenant_id: string; payload: unknown }>(`SELECT tenant_id, payload FROM oltp.outbox`)
    expect(outbox).toEqual({ tenant_id: NO_TENANT, payload: { job: 'erasure.run' } })
    for (const table of ['oltp.audit_log', 'oltp.outbox']) expect((await keyColumns(db, table)).map((c) => c.col)).toEqual(['tenant_id', 'id'])
    const [nullable] = await db.query<{ is_nullable: string }>(
      `SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'oltp' AND table_name = 'audit_log' AND column_name = 'tenant_id'`,
    )
    expect(nullable!.is_nullable).toBe('NO')
    const leftovers = await db.query<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint WHERE conname = 'audit_log_tenant_id_not_null'
       UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'oltp' AND indexname IN ('audit_log_tenant_id', 'outbox_tenant_key', 'audit_log_tenant_key')`,
    )
    expect(leftovers).toEqual([])

    // The operator's listing shows them as before: no tenant.
    const newest = await listAudit(db, { limit: 1 }) // limit + 1 rows
    expect(newest.map((r) => r.tenant_id)).toEqual([tenant, null])

    // Run again over its own result, statement by statement as the runner does: nothing changes.
    const first = all[at]!
    for (const s of statements(first.sql)) await db.exec(s)
    expect(await db.query(`SELECT tenant_id, count(*)::int AS n FROM oltp.audit_log GROUP BY tenant_id ORDER BY n DESC`)).toEqual(counts)
    expect((await keyColumns(db, 'oltp.audit_log')).map((c) => c.col)).toEqual(['tenant_id', 'id'])
  } finally {
    await dispose()
  }
}, 120_000)
