/**
 * The cluster against the single server, side by side in one run (issue 15 §5). Both systems
 * exist at once: the single server with the four tiers in four databases on BENCH_PG_URL, and a
 * throwaway Citus cluster on this machine (a coordinator and two workers, scripts/citus/) holding
 * OLTP and content, with analytics and queue on the same plain server. The same services run over
 * both, in alternating blocks so drift hits both alike:
 * - the write path (createMessage: the ref's references read, the content transaction, the OLTP
 *   transaction with its outbox row), at 1 and 16 writers, spread over 20 tenants;
 * - a listing read (a tenant's newest 50 refs) and a fetch (ref and body), one client, p50 and p99.
 * Where the time goes: every statement each tier is sent is timed, per message written, so the
 * ratio can be read as "this many statements, each this much slower". Also the bytes a message
 * costs per node, the figure the README's capacity model starts from.
 *
 * On one 2-core machine the cluster is three PostgreSQL servers sharing those cores, and every
 * statement takes one more hop (coordinator to worker); it is slower here, by design of the
 * experiment. The ratio says what a distributed statement costs, not what more machines buy.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { citusInstalled, createDatabase, destroyCluster, startCluster } from '../../scripts/citus/cluster.ts'
import { decorateDb } from '../../src/db/decorate.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import type { Deps } from '../../src/deps.ts'
import { createEmailAccount } from '../../src/services/email-accounts.ts'
import { createMessage, getMessage, listMessages } from '../../src/services/messages.ts'
import { createTenant } from '../../src/services/tenants.ts'
import { BENCH_PG_URL, benchDeps, databaseUrl } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { median, percentile, round } from '../lib/stats.ts'

const TENANTS = 20
const BLOCKS = 6

/** Per tier: statements sent and milliseconds spent in them. */
type Spent = Record<'oltp' | 'content', { n: number; ms: number }>

/** A Db that times every statement it is sent into `spent[tier]`. */
function timed(db: Db, tier: keyof Spent, spent: Spent): Db {
  const wrap = (q: Queryable): Queryable => ({
    query: async (text, params) => {
      const started = performance.now()
      try {
        return await q.query(text, params)
      } finally {
        spent[tier].n++
        spent[tier].ms += performance.now() - started
      }
    },
    exec: (text) => q.exec(text),
  })
  return decorateDb(db, wrap)
}

interface System {
  name: string
  tiers: Tiers
  deps: Deps
  spent: Spent
  tenants: { id: string; account: string; messages: string[] }[]
  close(): Promise<void>
}

async function system(name: string, urls: Record<TierName, string>): Promise<System> {
  const dbs = Object.fromEntries(TIER_NAMES.map((t) => [t, postgresDb(urls[t], { max: 20, applicationName: 'edp-bench' })])) as Record<TierName, Db>
  await migrateAll(dbs)
  const spent: Spent = { oltp: { n: 0, ms: 0 }, content: { n: 0, ms: 0 } }
  const tiers = tiersFrom({ ...dbs, oltp: timed(dbs.oltp, 'oltp', spent), content: timed(dbs.content, 'content', spent) })
  const deps = benchDeps(tiers)
  const tenants: System['tenants'] = []
  for (let i = 0; i < TENANTS; i++) {
    const { tenant } = await createTenant(deps, `bench-scale-${i}`)
    const account = await createEmailAccount(deps, tenant.id, { email_address: `sales@scale${i}.test` })
    tenants.push({ id: tenant.id, account: account.id, messages: [] })
  }
  return {
    name,
    tiers,
    deps,
    spent,
    tenants,
    close: () => tiers.close(),
  }
}

const body = (i: number) => `Hello ${i}, `.repeat(400) // about 4 KB: a typical plain-text email

/** `n` messages from `clients` writers over every tenant; milliseconds. */
async function writeBlock(s: System, clients: number, n: number): Promise<number> {
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        const i = next++
        const t = s.tenants[i % s.tenants.length]!
        const ref = await createMessage(s.deps, t.id, {
          email_account_id: t.account,
          from_email: 'sales@scale.test',
          to_email: `lead${i}@example.com`,
          subject: `Quarterly plan ${i}`,
          content_text: body(i),
          direction: 'outbound',
          message_type: 'email',
        })
        t.messages.push(ref.id)
      }
    }),
  )
  return performance.now() - started
}

/** One client's read latencies, ms: a listing of a random tenant's newest 50, or a fetch of a random message. */
async function readBlock(s: System, kind: 'list' | 'fetch', n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = s.tenants[Math.floor(Math.random() * s.tenants.length)]!
    const started = performance.now()
    if (kind === 'list') await listMessages(s.deps, t.id, {}, { limit: 50 })
    else await getMessage(s.deps, t.id, t.messages[Math.floor(Math.random() * t.messages.length)]!)
    out.push(performance.now() - started)
  }
  return out
}

const reset = (s: Spent) => {
  for (const t of Object.values(s)) t.n = t.ms = 0
}

/** Bytes on disk per message written, per tier, heap and indexes (on a cluster, every shard). */
async function bytesPerMessage(s: System, messages: number, clustered: boolean) {
  const size = async (db: Queryable, tables: string[]) => {
    const fn = clustered ? 'citus_total_relation_size' : 'pg_total_relation_size'
    const [r] = await db.query<{ bytes: string }>(`SELECT (${tables.map((t) => `${fn}('${t}')`).join(' + ')})::text AS bytes`)
    return Number(r!.bytes) / messages
  }
  return {
    oltp: Math.round(await size(s.tiers.oltp, ['oltp.inbox_message_refs'])),
    content: Math.round(await size(s.tiers.content, ['content.content_objects'])),
  }
}

export async function benchScale({ quick = false } = {}): Promise<Section> {
  if (!citusInstalled()) throw new Error('the scale benchmark needs Citus: bash ../shared/citus/install.sh')
  const perBlock = quick ? 40 : 500
  const reads = quick ? 40 : 400
  const shards = quick ? 4 : 32
  const suffix = `${process.pid}`
  const names = Object.fromEntries(TIER_NAMES.map((t) => [t, `edp_bench_scale_${t}_${suffix}`])) as Record<TierName, string>
  const admin = postgresDb(BENCH_PG_URL, { max: 1 })
  const plainNames = [...Object.values(names), `edp_bench_scale_cl_analytics_${suffix}`, `edp_bench_scale_cl_queue_${suffix}`]
  for (const n of plainNames) {
    await admin.exec(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`)
    await admin.exec(`CREATE DATABASE "${n}"`)
  }
  const parent = await mkdtemp(join(tmpdir(), 'edp-bench-scale-'))
  await chmod(parent, 0o755) // the nodes run as the postgres user
  const cluster = await startCluster(join(parent, 'cluster'), { workers: 2 })
  const systems: System[] = []
  try {
    const clusterUrls = {} as Record<TierName, string>
    for (const t of ['oltp', 'content'] as const) {
      clusterUrls[t] = await createDatabase(cluster, `edp_${t}`)
      const db = postgresDb(clusterUrls[t], { max: 1 })
      await db.exec(`ALTER DATABASE "edp_${t}" SET citus.shard_count = ${shards}`)
      await db.close()
    }
    clusterUrls.analytics = databaseUrl(plainNames[4]!)
    clusterUrls.queue = databaseUrl(plainNames[5]!)
    const single = await system('single server', Object.fromEntries(TIER_NAMES.map((t) => [t, databaseUrl(names[t])])) as Record<TierName, string>)
    systems.push(single)
    const cl = await system(`Citus, 2 workers, ${shards} shards`, clusterUrls)
    systems.push(cl)
    for (const s of systems) await writeBlock(s, 4, 40) // warm-up: prepared statements, caches, connections

    const rows: Row[] = []
    const data: Record<string, unknown> = { shards, tenants: TENANTS }
    for (const clients of [1, 16]) {
      const ms = [0, 0]
      const ratios: number[] = []
      const spent = systems.map(() => ({ oltp: { n: 0, ms: 0 }, content: { n: 0, ms: 0 } }))
      for (let b = 0; b < BLOCKS; b++) {
        const took: number[] = []
        for (const [i, s] of systems.entries()) {
          reset(s.spent)
          took.push(await writeBlock(s, clients, perBlock))
          ms[i]! += took[i]!
          for (const t of ['oltp', 'content'] as const) {
            spent[i]![t].n += s.spent[t].n
            spent[i]![t].ms += s.spent[t].ms
          }
        }
        ratios.push(took[0]! / took[1]!)
      }
      const total = perBlock * BLOCKS
      const perS = ms.map((m) => total / (m / 1000))
      const where = systems.map((s, i) =>
        (['oltp', 'content'] as const).map((t) => `${s.name === 'single server' ? 'single' : 'cluster'} ${t} ${round(spent[i]![t].n / total, 1)} stmts ${round(spent[i]![t].ms / total, 2)} ms`).join(', '),
      )
      data[`write_${clients}`] = {
        messages_each: total,
        single_per_s: round(perS[0]!, 0),
        cluster_per_s: round(perS[1]!, 0),
        median_block_ratio: round(median(ratios), 3),
        per_message: systems.map((s, i) => ({
          system: s.name,
          oltp_statements: round(spent[i]!.oltp.n / total, 2),
          oltp_ms: round(spent[i]!.oltp.ms / total, 3),
          content_statements: round(spent[i]!.content.n / total, 2),
          content_ms: round(spent[i]!.content.ms / total, 3),
        })),
      }
      rows.push({
        benchmark: `scale, write, ${clients} client${clients > 1 ? 's' : ''}`,
        case: `createMessage over ${TENANTS} tenants: OLTP and content on the Citus cluster vs one server`,
        ours: `${Math.round(perS[1]!)} msg/s`,
        baseline: `${Math.round(perS[0]!)} msg/s`,
        ratio: median(ratios),
        note: `${total} messages each side in ${BLOCKS} alternating blocks (ratio: median of the blocks); per message: ${where.join('; ')}${clients > 1 ? ' (statement times overlap at 16 writers)' : ''}`,
      })
    }

    for (const kind of ['list', 'fetch'] as const) {
      const samples: number[][] = [[], []]
      for (let b = 0; b < BLOCKS; b++) for (const [i, s] of systems.entries()) samples[i]!.push(...(await readBlock(s, kind, reads / BLOCKS)))
      const [p50, p99] = [50, 99].map((p) => samples.map((x) => percentile(x, p)))
      data[kind] = { reads_each: samples[0]!.length, single_p50_ms: round(p50![0]!, 3), single_p99_ms: round(p99![0]!, 3), cluster_p50_ms: round(p50![1]!, 3), cluster_p99_ms: round(p99![1]!, 3) }
      rows.push({
        benchmark: `scale, ${kind === 'list' ? 'listing' : 'fetch'}, 1 client`,
        case: kind === 'list' ? "a random tenant's newest 50 refs: cluster vs one server" : 'a random message, ref and body: cluster vs one server',
        ours: `p50 ${round(p50![1]!, 2)} ms, p99 ${round(p99![1]!, 2)} ms`,
        baseline: `p50 ${round(p50![0]!, 2)} ms, p99 ${round(p99![0]!, 2)} ms`,
        ratio: p50![0]! / p50![1]!,
        note: `${samples[0]!.length} reads each side, alternating blocks; ratio of the p50s (above 1: the cluster is faster)`,
      })
    }

    const written = systems.map((s) => s.tenants.reduce((n, t) => n + t.messages.length, 0))
    const bytes = [await bytesPerMessage(systems[0]!, written[0]!, false), await bytesPerMessage(systems[1]!, written[1]!, true)]
    data.bytes_per_message = { single: bytes[0], cluster: bytes[1] }
    rows.push({
      benchmark: 'scale, bytes per message',
      case: 'a ref (OLTP) and a 4 KB body (content), heap and indexes: cluster (every shard) vs one server',
      ours: `${bytes[1]!.oltp} B + ${bytes[1]!.content} B`,
      baseline: `${bytes[0]!.oltp} B + ${bytes[0]!.content} B`,
      ratio: null,
      note: `${written[1]} and ${written[0]} messages; the capacity model in the README starts from these`,
    })
    return { name: 'scale', rows, data }
  } finally {
    for (const s of systems) await s.close()
    await destroyCluster(cluster).catch(() => undefined)
    await rm(parent, { recursive: true, force: true })
    for (const n of plainNames) await admin.exec(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`)
    await admin.close()
  }
}
