/**
 * A throwaway PostgreSQL instance (scripts/lib/pg-node.ts in a temporary directory on a free
 * loopback port) for tests that need settings the shared server on 5432 must never get: WAL
 * archiving, a restore, a replica. destroy() shuts it down and removes everything it wrote.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, initNode, type PgNode } from '../../scripts/lib/pg-node.ts'

export interface PgInstance extends PgNode {
  /** Stops the instance (if running) and deletes its directory. */
  destroy(): Promise<void>
}

/** initdb, the given settings appended to postgresql.conf, started. */
export async function startPgInstance(settings: Record<string, string> = {}): Promise<PgInstance> {
  const root = await mkdtemp(join(tmpdir(), 'edp-pg-'))
  const node = await initNode(root, await freePort(), settings)
  const instance: PgInstance = {
    ...node,
    destroy: async () => {
      await node.stop().catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    },
  }
  await node.start()
  return instance
}
