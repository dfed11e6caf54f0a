/**
 * A rebalance under writes: a cluster starts with one worker, the API writes messages without a
 * pause, a second worker joins and citus_rebalance_start() moves shards onto it meanwhile. Every
 * write the API acknowledged is readable afterwards, none failed with a 5xx, and the new worker
 * holds shards. Runs in the PostgreSQL pass on a throwaway cluster of its own (CI installs Citus).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/http/app.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { addWorker, createDatabase, destroyCluster, startCluster, type Cluster } from '../../scripts/citus/cluster.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { createPgDatabase, dropPgDatabases, engine } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { makeDeps, type TestSystem } from '../support/system.ts'

useLeakCheck()

const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 7)}`
const plain = [`edp_rb${suffix}_analytics`, `edp_rb${suffix}_queue`]
let parent: string | undefined
let cluster: Cluster | undefined
let tiers: Tiers | undefined
async function cleanUp() {
  await tiers?.close()
  tiers = undefined
  if (engine === 'postgres') await dropPgDatabases(plain)
  if (cluster) await destroyCluster(cluster)
  if (parent) await rm(parent, { recursive: true, force: true })
  cluster = parent = undefined
}
afterAll(cleanUp) // after a failure; a passing test cleans up itself, before the leak check

const shardPorts = async (db: Tiers['oltp']) =>
  (await db.query<{ port: number }>(`SELECT DISTINCT nodeport AS port FROM citus_shards WHERE table_name = 'oltp.inbox_message_refs'::regclass`)).map((r) =>
    Number(r.port),
  )

describe('rebalancing a Citus cluster under writes', () => {
  test.skipIf(engine !== 'postgres')(
    'a second worker joins and takes shards while the API writes: every acknowledged write reads back, none failed',
    async () => {
      parent = await mkdtemp(join(tmpdir(), 'edp-rebalance-'))
      await chmod(parent, 0o755) // the nodes run as the postgres user
      cluster = await startCluster(join(parent, 'cluster'), { workers: 1 })
      const [oltpUrl, contentUrl] = [await createDatabase(cluster, 'edp_oltp'), await createDatabase(cluster, 'edp_content')]
      // Few shards: each move is a logical replication of its co-located group, seconds apiece here.
      for (const [url, name] of [[oltpUrl, 'edp_oltp'], [contentUrl, 'edp_content']] as const) {
        const db = postgresDb(url, { max: 1 })
        await db.exec(`ALTER DATABASE "${name}" SET citus.shard_count = 4`)
        await db.close()
      }
      const [analyticsUrl, queueUrl] = [await createPgDatabase(plain[0]!), await createPgDatabase(plain[1]!)]
      tiers = tiersFrom({
        oltp: postgresDb(oltpUrl, { max: 8 }),
        content: postgresDb(contentUrl, { max: 8 }),
        analytics: postgresDb(analyticsUrl, { max: 4 }),
        queue: postgresDb(queueUrl, { max: 4 }),
      })
      await migrateAll(tiers)
      const deps = makeDeps(tiers)
      const sys: TestSystem = { tiers, deps, app: createApp(deps) }
      const [first] = cluster.workers
      expect(await shardPorts(tiers.oltp)).toEqual([first!.port])

      const tenants = [await createTenant(sys, 'rebalance-a'), await createTenant(sys, 'rebalance-b'), await createTenant(sys, 'rebalance-c')]
      const acknowledged: { key: string; id: string }[] = []
      const failures: string[] = []
      let writing = true
      // Four writers, each sending the next message as soon as the last one is answered.
      const writers = [0, 1, 2, 3].map(async (w) => {
        for (let i = 0; writing || i < 5; i++) {
          const t = tenants[(w + i) % tenants.length]!
          const r = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { subject: `w${w} #${i}` }) })
          if (r.status === 201) acknowledged.push({ key: t.key, id: r.body.id })
          else failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
        }
      })

      await Bun.sleep(500)
      const second = await addWorker(cluster)
      const admin = postgresDb(oltpUrl, { max: 1 })
      const contentAdmin = postgresDb(contentUrl, { max: 1 })
      const beforeMoves = acknowledged.length
      const movesStarted = performance.now()
      try {
        for (const db of [admin, contentAdmin]) {
          await db.query(`SELECT citus_rebalance_start()`)
          await db.query(`SELECT citus_rebalance_wait()`)
        }
      } finally {
        await admin.close()
        await contentAdmin.close()
      }
      const duringMoves = acknowledged.length - beforeMoves
      const movesMs = performance.now() - movesStarted
      writing = false
      await Promise.all(writers)

      expect(failures).toEqual([])
      expect(duringMoves).toBeGreaterThan(10) // the writes went on while the shards moved
      expect((await shardPorts(tiers.oltp)).sort()).toEqual([first!.port, second.port].sort())
      const contentPorts = await tiers.content.query<{ port: number }>(
        `SELECT DISTINCT nodeport AS port FROM citus_shards WHERE table_name = 'content.content_objects'::regclass`,
      )
      expect(contentPorts.map((r) => Number(r.port))).toContain(second.port)

      // Every acknowledged message is there, ref and body, and the tiers hold exactly those; a
      // sample reads back through the API whole.
      const refIds = await tiers.oltp.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs`)
      const bodyKeys = await tiers.content.query<{ key: string }>(`SELECT storage_key AS key FROM content.content_objects`)
      const acked = acknowledged.map((m) => m.id).sort()
      expect(refIds.map((r) => r.id).sort()).toEqual(acked)
      expect(bodyKeys.map((r) => r.key.split('/').at(-1)).sort()).toEqual(acked)
      for (let i = 0; i < acknowledged.length; i += Math.ceil(acknowledged.length / 100)) {
        const m = acknowledged[i]!
        const r = await call(sys, 'GET', `/v1/messages/${m.id}`, { token: m.key })
        expect(r.status).toBe(200)
        expect(r.body.content.content_text).toBe('Hello there')
      }
      console.log(`rebalance: ${acknowledged.length} writes acknowledged, ${duringMoves} of them while the shards moved (${Math.round(movesMs / 1000)} s)`)
      await cleanUp()
    },
    240_000,
  )
})
