/**
 * A local Citus cluster the project owns: a coordinator and N workers, each a PostgreSQL 15 node
 * (scripts/lib/pg-node.ts) with citus preloaded, on free loopback ports, under one directory that
 * holds every node's data and `cluster.json` (the ports and the databases made). The OLTP and
 * content tiers point at the coordinator; analytics and queue stay on a plain server.
 *
 * Citus keeps its node list per database, so a database is made on every node, given the
 * extension, and has the workers registered on the coordinator (createDatabase). A node added
 * later (addWorker) is registered in every database the cluster has.
 */
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { postgresDb } from '../../src/db/postgres.ts'
import type { Db } from '../../src/db/types.ts'
import { freePort, initNode, pgNode, type PgNode } from '../lib/pg-node.ts'

const CITUS_LIB = '/usr/lib/postgresql/15/lib/citus.so'

/** Settings every node gets: citus preloaded, and logical decoding for shard moves (rebalancing). */
const NODE_SETTINGS = {
  shared_preload_libraries: "'citus'",
  wal_level: 'logical',
  max_replication_slots: '16',
  max_wal_senders: '16',
  max_connections: '100',
  shared_buffers: '64MB',
}

interface ClusterFile {
  coordinator: number
  workers: number[]
  databases: string[]
}

export interface Cluster {
  dir: string
  coordinator: PgNode
  workers: PgNode[]
  databases: string[]
}

export class ClusterError extends Error {
  override name = 'ClusterError'
}

const stateFile = (dir: string) => join(dir, 'cluster.json')
const nodeDir = (dir: string, name: string) => join(dir, name)

/** True when the Citus extension is installed in the local PostgreSQL 15 (../shared/citus/install.sh). */
export const citusInstalled = (): boolean => existsSync(CITUS_LIB)

/** The cluster described by `dir`, or undefined when none was made there. Starts nothing. */
export async function loadCluster(dir: string): Promise<Cluster | undefined> {
  const text = await readFile(stateFile(dir), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const s = JSON.parse(text) as ClusterFile
  return {
    dir,
    coordinator: pgNode(nodeDir(dir, 'coordinator'), s.coordinator),
    workers: s.workers.map((port, i) => pgNode(nodeDir(dir, `worker-${i + 1}`), port)),
    databases: s.databases,
  }
}

async function save(c: Cluster): Promise<void> {
  const s: ClusterFile = { coordinator: c.coordinator.port, workers: c.workers.map((w) => w.port), databases: c.databases }
  await writeFile(stateFile(c.dir), JSON.stringify(s, null, 2) + '\n')
}

const nodes = (c: Cluster) => [c.coordinator, ...c.workers]

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = postgresDb(url, { max: 1, applicationName: 'edp-citus' })
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/**
 * Makes the cluster in `dir` when there is none (initdb of every node), starts the nodes that are
 * not running, and makes `databases` that do not exist yet. Safe to run again.
 */
export async function startCluster(dir: string, { workers = 2, databases = [] as string[] } = {}): Promise<Cluster> {
  if (!citusInstalled()) throw new ClusterError(`Citus is not installed (${CITUS_LIB} is missing): run ../shared/citus/install.sh`)
  let c = await loadCluster(dir)
  if (!c) {
    // The nodes run as the postgres user, who must be able to enter it whatever the umask was.
    await mkdir(dir, { recursive: true })
    await chmod(dir, 0o755)
    const coordinator = await initNode(nodeDir(dir, 'coordinator'), await freePort(), NODE_SETTINGS)
    const ws: PgNode[] = []
    for (let i = 0; i < workers; i++) ws.push(await initNode(nodeDir(dir, `worker-${i + 1}`), await freePort(), NODE_SETTINGS))
    c = { dir, coordinator, workers: ws, databases: [] }
    await save(c)
  }
  for (const n of nodes(c)) if (!(await n.running())) await n.start()
  for (const name of databases) await createDatabase(c, name)
  return c
}

/** Stops every node (the coordinator first, so nothing sends it work meanwhile). Data stays. */
export async function stopCluster(c: Cluster): Promise<void> {
  for (const n of nodes(c)) if (await n.running()) await n.stop()
}

/** Stops the cluster and removes its directory. */
export async function destroyCluster(c: Cluster): Promise<void> {
  await stopCluster(c).catch(() => undefined)
  await rm(c.dir, { recursive: true, force: true })
}

async function databaseExists(node: PgNode, name: string): Promise<boolean> {
  return withDb(node.url('postgres'), async (db) => (await db.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).length > 0)
}

async function prepareNode(node: PgNode, name: string): Promise<void> {
  if (!(await databaseExists(node, name))) {
    await withDb(node.url('postgres'), (db) => db.exec(`CREATE DATABASE "${name}"`))
  }
  await withDb(node.url(name), (db) => db.exec(`CREATE EXTENSION IF NOT EXISTS citus`))
}

async function registerWorker(c: Cluster, name: string, w: PgNode): Promise<void> {
  await withDb(c.coordinator.url(name), async (db) => {
    const known = await db.query(`SELECT 1 FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = $1`, [w.port])
    if (known.length === 0) await db.query(`SELECT citus_add_node('127.0.0.1', $1)`, [w.port])
  })
}

/** A database on every node with the extension, the coordinator's own address set and the workers registered. */
export async function createDatabase(c: Cluster, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new ClusterError(`database name ${JSON.stringify(name)}: use lowercase letters, digits and _`)
  for (const n of nodes(c)) await prepareNode(n, name)
  await withDb(c.coordinator.url(name), (db) => db.query(`SELECT citus_set_coordinator_host('127.0.0.1', $1)`, [c.coordinator.port]))
  for (const w of c.workers) await registerWorker(c, name, w)
  if (!c.databases.includes(name)) {
    c.databases.push(name)
    await save(c)
  }
  return c.coordinator.url(name)
}

/** Drops a database from every node. */
export async function dropDatabase(c: Cluster, name: string): Promise<void> {
  for (const n of nodes(c)) {
    await withDb(n.url('postgres'), (db) => db.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
  }
  c.databases = c.databases.filter((d) => d !== name)
  await save(c)
}

/** One more worker, started and registered in every database (it holds no shards until a rebalance). */
export async function addWorker(c: Cluster): Promise<PgNode> {
  const w = await initNode(nodeDir(c.dir, `worker-${c.workers.length + 1}`), await freePort(), NODE_SETTINGS)
  await w.start()
  c.workers.push(w)
  await save(c)
  for (const name of c.databases) {
    await prepareNode(w, name)
    await registerWorker(c, name, w)
  }
  return w
}

export interface NodeStatus {
  role: 'coordinator' | 'worker'
  port: number
  running: boolean
}

export async function clusterStatus(c: Cluster): Promise<{ dir: string; nodes: NodeStatus[]; databases: string[] }> {
  const out: NodeStatus[] = []
  for (const n of nodes(c)) out.push({ role: n === c.coordinator ? 'coordinator' : 'worker', port: n.port, running: await n.running() })
  return { dir: c.dir, nodes: out, databases: c.databases }
}
