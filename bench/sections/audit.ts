/**
 * What the audit trail costs the write path: POST /v1/messages' service (createMessage: content
 * transaction, then the ref, its job and its message.create audit row in one OLTP transaction)
 * with the audit row and without it, on PGlite and on PostgreSQL, at 1 and 16 concurrent writers
 * (16 share transactions through the group commit, so their rows go in one multi-row INSERT).
 * "Without" runs the same code over a Db that skips the audit INSERT, so both sides pay the same
 * wrapper; the runs alternate (without, with, without, with) so drift hits both alike. Also the
 * bytes one audit row costs (heap and its four indexes), the figure a counts-per-minute table
 * would save.
 */
import { decorateDb } from '../../src/db/decorate.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { tiersFrom } from '../../src/db/tiers.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import { createEmailAccount } from '../../src/services/email-accounts.ts'
import { createMessage } from '../../src/services/messages.ts'
import { createTenant } from '../../src/services/tenants.ts'
import { benchDatabase, benchDeps } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { median, round } from '../lib/stats.ts'

const AUDIT_INSERT = 'INSERT INTO oltp.audit_log'
const BLOCKS = 10

/**
 * The same Db for every tier (so the write path is the one it would be), skipping audit inserts
 * while `skip.on`, and adding up the time the audit inserts that do run take (`spent.ms`).
 */
function switchable(db: Db, skip: { on: boolean }, spent: { ms: number; n: number }): Db {
  const timedInsert = async (q: Queryable, text: string, params?: readonly unknown[]) => {
    const started = performance.now()
    const rows = await q.query(text, params)
    spent.ms += performance.now() - started
    spent.n++
    return rows
  }
  const guard = (q: Queryable): Queryable => ({
    query: <T extends object>(text: string, params?: readonly unknown[]) =>
      (text.startsWith(AUDIT_INSERT) ? (skip.on ? Promise.resolve([]) : timedInsert(q, text, params)) : q.query(text, params)) as Promise<T[]>,
    exec: (text) => q.exec(text),
  })
  return decorateDb(db, guard)
}

async function run(engine: string, db: Db, total: number): Promise<{ rows: Row[]; data: Record<string, unknown> }> {
  const skip = { on: false }
  const spent = { ms: 0, n: 0 }
  const shared = switchable(db, skip, spent)
  const deps = benchDeps(tiersFrom(Object.fromEntries(TIER_NAMES.map((t) => [t, shared])) as Record<TierName, Db>))
  const { tenant } = await createTenant(deps, 'bench-audit')
  const account = await createEmailAccount(deps, tenant.id, { email_address: 'sales@bench.test' })
  const write = (i: number) =>
    createMessage(deps, tenant.id, {
      email_account_id: account.id,
      from_email: 'sales@bench.test',
      to_email: `lead${i}@example.com`,
      subject: `Quarterly plan ${i}`,
      content_text: `Hello ${i}, `.repeat(80),
      direction: 'outbound',
      message_type: 'email',
    })
  /** `n` messages from `clients` writers; milliseconds. */
  const timed = async (clients: number, n: number) => {
    const started = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < n) await write(next++)
    }))
    return performance.now() - started
  }
  await timed(4, 200) // warm-up: prepared statements, caches
  const rows: Row[] = []
  const data: Record<string, unknown> = {}
  for (const clients of [1, 16]) {
    const ms = { with: 0, without: 0 }
    const ratios: number[] = []
    spent.ms = 0
    spent.n = 0
    const block = total / BLOCKS
    for (let b = 0; b < BLOCKS; b++) {
      skip.on = true
      const without = await timed(clients, block)
      skip.on = false
      const with_ = await timed(clients, block)
      ms.without += without
      ms.with += with_
      ratios.push(without / with_)
    }
    const perS = { with: total / (ms.with / 1000), without: total / (ms.without / 1000) }
    // The audit statements' summed time against the wall time of the runs with them: exact for one
    // writer; for 16 an upper bound, since the group commit may run two groups' statements at once.
    const share = spent.ms / ms.with
    data[`clients_${clients}`] = {
      messages: total,
      with_per_s: round(perS.with, 0),
      without_per_s: round(perS.without, 0),
      median_block_ratio: round(median(ratios), 3),
      audit_insert_ms: round(spent.ms / spent.n, 3),
      audit_inserts: spent.n,
      audit_share_pct: round(share * 100, 1),
    }
    rows.push({
      benchmark: `audit, ${engine}, ${clients} client${clients > 1 ? 's' : ''}`,
      case: 'message create (service): one message.create audit row per message vs none',
      ours: `${Math.round(perS.with)} msg/s`,
      baseline: `${Math.round(perS.without)} msg/s`,
      ratio: median(ratios),
      note:
        `${total} messages each side in ${BLOCKS} alternating blocks (ratio: median of the blocks); the audit INSERT took ` +
        `${round(spent.ms / spent.n, 2)} ms a statement, ${spent.n} statements, ${clients > 1 ? 'at most ' : ''}${round(share * 100, 1)}% of the wall time`,
    })
  }
  const [size] = await db.query<{ n: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM oltp.audit_log) AS n, pg_total_relation_size('oltp.audit_log') AS bytes`,
  )
  const perRow = Number(size!.bytes) / Math.max(1, Number(size!.n))
  data.bytes_per_row = Math.round(perRow)
  rows.push({
    benchmark: `audit, ${engine}`,
    case: 'bytes per audit row, heap and indexes',
    ours: `${Math.round(perRow)} B`,
    baseline: '–',
    ratio: null,
    note: `${size!.n} rows`,
  })
  return { rows, data }
}

export async function benchAudit({ quick = false } = {}): Promise<Section> {
  const total = quick ? 400 : 3000
  const rows: Row[] = []
  const data: Record<string, unknown> = {}
  const pglite = pgliteDb(await openPglite())
  try {
    await migrateAll(Object.fromEntries(TIER_NAMES.map((t) => [t, pglite])) as Record<TierName, Db>)
    const r = await run('PGlite', pglite, total)
    rows.push(...r.rows)
    data.pglite = r.data
  } finally {
    await pglite.close()
  }
  const bench = await benchDatabase('edp_bench_audit', 20)
  try {
    const r = await run('PostgreSQL', bench.db, total)
    rows.push(...r.rows)
    data.postgres = r.data
  } finally {
    await bench.dispose()
  }
  return { name: 'audit', rows, data }
}
