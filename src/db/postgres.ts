import postgres from 'postgres'
import { heldListen, heldPool } from '../open-handles.ts'
import { poolStats } from './stats.ts'
import type { Db, Queryable } from './types.ts'

export interface PostgresOptions {
  max?: number
  /** Name shown in pg_stat_activity, so operators can tell tiers and processes apart. */
  applicationName?: string
}

type Sql = postgres.Sql | postgres.TransactionSql

function queryable(sql: Sql): Queryable {
  return {
    async query<T extends object>(text: string, params: readonly unknown[] = []) {
      // prepare: true keeps hot statements to one round trip after the first use.
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })
      return rows as unknown as T[]
    },
    async exec(text: string) {
      // No parameters: the simple query protocol, which accepts several statements.
      await sql.unsafe(text).simple()
    },
  }
}

/** The URL without its password, for logs, /ready and backup manifests. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`
  } catch {
    return 'postgres://(unparseable url)'
  }
}

export function postgresDb(url: string, options: PostgresOptions = {}): Db {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'edp' },
    types: {
      // Tier modules pass json/jsonb parameters as JSON text (what PGlite expects); postgres.js
      // would stringify that text a second time and store a JSON string instead of the object.
      json: {
        to: 114,
        from: [114, 3802],
        serialize: (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x)),
        parse: (x: string) => JSON.parse(x),
      },
    },
  })
  const base = queryable(sql)
  const label = redactUrl(url)
  const pool = poolStats(label, options.max ?? 10)
  return {
    engine: 'postgres',
    label,
    query: (text, params) => pool.timed(() => base.query(text, params)),
    exec: (text) => pool.timed(() => base.exec(text)),
    transaction: (fn) => pool.timed(() => sql.begin((tx) => fn(queryable(tx))) as Promise<never>),
    pool: pool.stats,
    async listen(channel, onNotify) {
      const sub = await sql.listen(channel, onNotify)
      return heldListen(`${label} ${channel}`, () => sub.unlisten())
    },
    close: heldPool(label, () => sql.end({ timeout: 5 })),
  }
}
