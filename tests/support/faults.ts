import { decorateDb } from '../../src/db/decorate.ts'
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
  return { ...decorateDb(db, guard), close: async () => {} }
}

/**
 * A Db over the same connection that counts its transactions (a group commit's shared writes) and,
 * given `poison`, fails a statement that names poison.sql and whose parameters hold poison.param:
 * one message of a group, not all of them.
 */
export function countingDb(db: Db, poison?: { sql: string; param: string }) {
  const counts = { transactions: 0 }
  const guard = (q: Queryable): Queryable => ({
    query: (text, params) =>
      poison && text.includes(poison.sql) && JSON.stringify(params ?? []).includes(poison.param)
        ? Promise.reject(new Error('injected fault'))
        : q.query(text, params),
    exec: (text) => q.exec(text),
  })
  const guarded = decorateDb(db, guard)
  const wrapped: Db = {
    ...guarded,
    transaction: (fn) => {
      counts.transactions++
      return guarded.transaction(fn)
    },
    close: async () => {},
  }
  return { db: wrapped, counts }
}
