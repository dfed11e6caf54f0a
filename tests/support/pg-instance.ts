/**
 * A throwaway PostgreSQL instance (scripts/lib/pg-node.ts in a temporary directory on a free
 * loopback port) for tests that need settings the shared server on 5432 must never get: WAL
 * archiving, a restore, a replica. destroy() shuts it down and removes everything it wrote.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, initNode, initReplica, type PgNode } from '../../scripts/lib/pg-node.ts'

export interface PgInstance extends PgNode {
  /** Stops the instance (if running) and deletes its directory. */
  destroy(): Promise<void>
}

/** initdb, the given settings appended to postgresql.conf, started. */
export async function startPgInstance(settings: Record<string, string> = {}): Promise<PgInstance> {
  const root = await mkdtemp(join(tmpdir(), 'edp-pg-'))
  return started(root, await initNode(root, await freePort(), settings))
}

/** A streaming replica of `primary` (started with wal_level = replica), started. */
export async function startReplicaInstance(primary: PgNode): Promise<PgInstance> {
  const root = await mkdtemp(join(tmpdir(), 'edp-pg-replica-'))
  return started(root, await initReplica(primary, root, await freePort()))
}

async function started(root: string, node: PgNode): Promise<PgInstance> {
  const instance: PgInstance = {
    ...node,
    destroy: async () => {
      await node.stop().catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    },
  }
  try {
    await node.start()
  } catch (err) {
    await rm(root, { recursive: true, force: true })
    throw err
  }
  return instance
}
