import type { Db, Queryable } from '../../src/db/types.ts'

/**
 * A Db over the same connection that throws when a statement matches `failWhen`, inside
 * transactions too. A fresh object, so sameDatabase() sees it as a different database: wrapping
 * the queue tier with failWhen = never simulates OLTP and queue on separate servers.
 */
export function faultyDb(db: Db, failWhen: (sql: string) => boolean = () => false, error = 'injected fault'): Db {
  const guard = (q: Queryable): Queryable => ({
    query: (text, params) => (failWhen(text) ? Promise.reject(new Error(error)) : q.query(text, params)),
    exec: (text) => (failWhen(text) ? Promise.reject(new Error(error)) : q.exec(text)),
  })
  return {
    ...db,
    ...guard(db),
    transaction: (fn) => db.transaction((tx) => fn(guard(tx))),
    close: async () => {},
  }
}
