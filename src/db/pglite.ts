import { PGlite, types, type Transaction } from '@electric-sql/pglite'
import { pgmq } from '@electric-sql/pglite-pgmq'
import { heldListen, heldPool } from '../open-handles.ts'
import { poolStats } from './stats.ts'
import type { Db, Queryable } from './types.ts'

export interface PgliteOptions {
  /** Directory to persist in; omit for an in-memory database. */
  dataDir?: string
  /** A dumpDataDir() tarball to start from (tests load a migrated snapshot). */
  loadDataDir?: Blob
}

/**
 * int8 stays exact (PGlite's default parser makes it a lossy JS number). bytea goes through
 * Node's native hex codec: PGlite's own serializer builds the hex text in JS, which for one 15 MB
 * attachment took 9 s and 1.5 GB of memory on the event loop (with these: 1.3 s and 0.3 GB;
 * reading it back 1.5 s, now 0.7 s). PostgreSQL servers get bytea in binary from postgres.js.
 */
const parsers = {
  [types.INT8]: (value: string) => value,
  [types.BYTEA]: (hex: string) => {
    const b = Buffer.from(hex.slice(2), 'hex')
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  },
}
const serializers = {
  [types.BYTEA]: (bytes: Uint8Array | string) =>
    typeof bytes === 'string' ? bytes : `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`,
}

export async function openPglite(options: PgliteOptions = {}): Promise<PGlite> {
  const pg = new PGlite({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    extensions: { pgmq },
    parsers,
    serializers,
  })
  await pg.waitReady
  return pg
}

function queryable(target: PGlite | Transaction): Queryable {
  return {
    async query<T extends object>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<T>(text, params as unknown[])
      return result.rows
    },
    async exec(text: string) {
      await target.exec(text)
    },
  }
}

export function pgliteDb(pg: PGlite, label = 'pglite'): Db {
  const base = queryable(pg)
  const pool = poolStats(label, 1)
  return {
    engine: 'pglite',
    label,
    query: (text, params) => pool.timed(() => base.query(text, params)),
    exec: (text) => pool.timed(() => base.exec(text)),
    // PGlite has one connection: a failed statement inside a transaction poisons it until
    // ROLLBACK, which pg.transaction() issues before rethrowing.
    transaction: (fn) => pool.timed(() => pg.transaction((tx) => fn(queryable(tx)))),
    pool: pool.stats,
    async listen(channel, onNotify) {
      // PGlite folds an unquoted channel name to lower case (pgmq's are mixed case); postgres.js
      // quotes for us, so quote here to give both the same meaning.
      const unlisten = await pg.listen(`"${channel.replaceAll('"', '""')}"`, onNotify)
      return heldListen(`${label} ${channel}`, unlisten)
    },
    close: heldPool(label, () => pg.close()),
    dumpDataDir: async () => (await pg.dumpDataDir('gzip')) as Blob,
  }
}
