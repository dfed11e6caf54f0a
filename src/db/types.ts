/**
 * The one data-access interface every tier module uses. Two implementations:
 * PGlite (embedded mode, tests) and postgres.js (server mode).
 *
 * Normalised across drivers: int8 arrives as a decimal string (never a lossy number),
 * bytea as a Uint8Array (postgres.js hands a Buffer, which is one), timestamptz as a Date.
 */
import type { PoolStats } from './stats.ts'

export interface Queryable {
  /** One parameterised statement; prepared where the driver supports it. */
  query<T extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>
  /** Several statements without parameters (migrations, extension installs). */
  exec(text: string): Promise<void>
}

export interface Db extends Queryable {
  readonly engine: 'pglite' | 'postgres'
  /** A stable label for logs and /ready, never containing credentials. */
  readonly label: string
  /** Runs fn in one transaction; a throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
  /** Calls in flight against the pool size (src/db/stats.ts). */
  pool?(): PoolStats
  /** PGlite only: a tarball of the whole data directory, consistent (backups). */
  dumpDataDir?(): Promise<Blob>
}
