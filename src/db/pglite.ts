import { PGlite, types, type Transaction } from '@electric-sql/pglite'
import { pgmq } from '@electric-sql/pglite-pgmq'
import { heldListen, heldPool } from '../open-handles.ts'
import type { Db, Queryable } from './types.ts'

export interface PgliteOptions {
  /** Directory to persist in; omit for an in-memory database. */
  dataDir?: string
  /** A dumpDataDir() tarball to start from (tests load a migrated snapshot). */
  loadDataDir?: Blob
}

/** Keeps int8 exact: PGlite's default parser turns it into a lossy JS number. */
const parsers = { [types.INT8]: (value: string) => value }

export async function openPglite(options: PgliteOptions = {}): Promise<PGlite> {
  const pg = new PGlite({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    extensions: { pgmq },
    parsers,
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
  return {
    engine: 'pglite',
    label,
    query: base.query,
    exec: base.exec,
    // PGlite has one connection: a failed statement inside a transaction poisons it until
    // ROLLBACK, which pg.transaction() issues before rethrowing.
    transaction: (fn) => pg.transaction((tx) => fn(queryable(tx))),
    async listen(channel, onNotify) {
      // PGlite folds an unquoted channel name to lower case (pgmq's are mixed case); postgres.js
      // quotes for us, so quote here to give both the same meaning.
      const unlisten = await pg.listen(`"${channel.replaceAll('"', '""')}"`, onNotify)
      return heldListen(`${label} ${channel}`, unlisten)
    },
    close: heldPool(label, () => pg.close()),
  }
}
