/**
 * The project's own Citus cluster (npm run citus): made, started, distributing a table's shards
 * over both workers, stopped and started again with its data, a worker added and rebalanced onto,
 * destroyed. Runs in the PostgreSQL pass (CI installs Citus with ../shared/citus/install.sh).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postgresDb } from '../../src/db/postgres.ts'
import { engine } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { addWorker, citusInstalled, destroyCluster, loadCluster, startCluster, stopCluster, type Cluster } from '../../scripts/citus/cluster.ts'

useLeakCheck()

const ROOT = join(import.meta.dir, '..', '..')
let cluster: Cluster | undefined
let parent: string | undefined
afterAll(async () => {
  // Whatever the test got to: a cluster made by the command line is found through its directory.
  const made = cluster ?? (parent ? await loadCluster(join(parent, 'cluster')) : undefined)
  if (made) await destroyCluster(made)
  if (parent) await rm(parent, { recursive: true, force: true })
})

async function sql<T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const db = postgresDb(url, { max: 1 })
  try {
    return await db.query<T>(text, params)
  } finally {
    await db.close()
  }
}

/** Runs `npm run citus -- args` as a user would; its exit code and output. */
function cli(...args: string[]) {
  const p = Bun.spawnSync(['bun', 'scripts/citus.ts', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() }
}

const shardsPerNode = (url: string) =>
  sql<{ nodeport: number; shards: string }>(url, `SELECT nodeport, count(*)::text AS shards FROM citus_shards WHERE table_name = 'mail'::regclass GROUP BY 1 ORDER BY 1`)

describe('npm run citus', () => {
  test.skipIf(engine !== 'postgres')(
    'start, distribute over two workers, stop and start with the data, add a worker and rebalance, destroy',
    async () => {
      expect(citusInstalled()).toBe(true) // CI installs it: ../shared/citus/install.sh
      parent = await mkdtemp(join(tmpdir(), 'edp-citus-'))
      await chmod(parent, 0o755) // the nodes run as the postgres user
      const dir = join(parent, 'cluster')

      // The command line: status before a cluster exists is an error naming the directory.
      const none = cli('status', '--dir', dir)
      expect(none.code).toBe(1)
      expect(none.err).toContain(`no cluster in ${dir}`)
      expect(cli('frobnicate', '--dir', dir).code).toBe(2)

      const started = cli('start', '--dir', dir, '--database', 'mail_test')
      expect(started.err).toBe('')
      expect(started.code).toBe(0)
      cluster = await loadCluster(dir)
      expect(cluster?.workers).toHaveLength(2)
      const url = cluster!.coordinator.url('mail_test')
      expect(started.out).toContain(`OLTP_DATABASE_URL=${url}`)

      const workers = await sql<{ nodeport: number }>(url, `SELECT node_port AS nodeport FROM citus_get_active_worker_nodes() ORDER BY 1`)
      expect(workers.map((w) => Number(w.nodeport))).toEqual(cluster!.workers.map((w) => w.port).sort((a, b) => a - b))

      await sql(url, `CREATE TABLE mail (tenant_id uuid NOT NULL, id bigint NOT NULL, subject text, PRIMARY KEY (tenant_id, id))`)
      await sql(url, `SELECT create_distributed_table('mail', 'tenant_id', shard_count := 8)`)
      await sql(url, `INSERT INTO mail SELECT gen_random_uuid(), g, 'subject ' || g FROM generate_series(1, 200) g`)
      const before = await shardsPerNode(url)
      expect(before.map((r) => Number(r.nodeport))).toEqual(cluster!.workers.map((w) => w.port).sort((a, b) => a - b))

      // Stopped, every node is down and status says so (exit 1); started again, the rows are there.
      await stopCluster(cluster!)
      const down = cli('status', '--dir', dir)
      expect(down.code).toBe(1)
      expect(down.out.match(/stopped/g)).toHaveLength(3)
      cluster = await startCluster(dir)
      expect(cli('status', '--dir', dir).code).toBe(0)
      expect(await sql(url, `SELECT count(*)::int AS n FROM mail`)).toEqual([{ n: 200 }])

      // A third worker takes shards once rebalanced, and every row is still readable.
      const third = await addWorker(cluster)
      await sql(url, `SELECT citus_rebalance_start(shard_transfer_mode := 'block_writes')`)
      await sql(url, `SELECT citus_rebalance_wait()`)
      const after = await shardsPerNode(url)
      expect(after.map((r) => Number(r.nodeport))).toContain(third.port)
      expect(await sql(url, `SELECT count(*)::int AS n FROM mail`)).toEqual([{ n: 200 }])

      expect(cli('destroy', '--dir', dir).code).toBe(0)
      expect(existsSync(dir)).toBe(false)
      cluster = undefined
    },
    180_000,
  )
})
