/**
 * The one way a listing reads a page: a tenant's rows newest first by id (UUIDv7, so creation
 * order), keyset-paginated, limit + 1 rows so the caller can tell whether more exist.
 *
 * Only the conditions given go into the SQL, so each combination of filters is its own prepared
 * statement with its own plan. One statement with `($2 IS NULL OR col = $2)` per optional filter
 * gets a generic plan after five runs that cannot pick the filter's index: at 1M messages it
 * walked a tenant's whole primary key for a small mailbox (p99 305 ms; npm run bench, oltp).
 */
import type { Queryable } from './types.ts'

/** A WHERE condition on one parameter; `param` is its placeholder ($n). */
export interface Condition {
  sql: (param: string) => string
  value: unknown
}

/** column = value, or no condition at all when value is undefined. */
export const equals = (column: string, value: unknown, type: 'uuid' | 'text'): Condition | undefined =>
  value === undefined ? undefined : { sql: (p) => `${column} = ${p}::${type}`, value }

export interface KeysetQuery {
  /** Schema-qualified table. */
  from: string
  select: string
  tenantId: string
  where?: readonly (Condition | undefined)[]
  /** The id of the last row of the previous page. */
  before?: string
  limit: number
}

export function keysetList<T extends object>(q: Queryable, o: KeysetQuery): Promise<T[]> {
  const params: unknown[] = [o.tenantId]
  const where = ['tenant_id = $1']
  const older: Condition | undefined = o.before === undefined ? undefined : { sql: (p) => `id < ${p}::uuid`, value: o.before }
  for (const c of [...(o.where ?? []), older]) {
    if (c) where.push(c.sql(`$${params.push(c.value)}`))
  }
  const text = `SELECT ${o.select} FROM ${o.from} WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.push(o.limit + 1)}`
  return q.query<T>(text, params)
}
