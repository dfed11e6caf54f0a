import type { Db, Queryable } from './types.ts'

/**
 * A Db over the same connection whose every statement, inside its transactions too, goes through
 * `decorate(q)`: how tests and benchmarks fail, count, time or record statements on a real
 * database. A fresh object, so sameDatabase() sees it as a database of its own.
 */
export function decorateDb(db: Db, decorate: (q: Queryable) => Queryable): Db {
  return { ...db, ...decorate(db), transaction: (fn) => db.transaction((tx) => fn(decorate(tx))) }
}
