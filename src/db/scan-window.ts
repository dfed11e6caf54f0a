/**
 * A bounded scan: a statement reads the next `limit` rows of a table by its key (the window) and
 * returns those that match, each carrying the window's last key. So no one statement walks a whole
 * tenant however rarely rows match, and the caller knows where the next window starts.
 *
 * The statement's shape: `WITH win AS (… ORDER BY key LIMIT n) SELECT <last key of win> AS last,
 * w.* FROM (SELECT 1) one LEFT JOIN win w ON <match>`: one row even when nothing matches (its hit
 * columns null), none only when the window was empty.
 */
import type { Queryable } from './types.ts'

export interface Window<T> {
  hits: T[]
  /** The window's last key, where the next one starts; null when the window was empty (the scan is done). */
  last: string | null
}

/** Runs a window statement (see above); rows whose `hitKey` is null are the no-match row. */
export async function scanWindow<T extends object>(q: Queryable, text: string, params: readonly unknown[], hitKey: keyof T): Promise<Window<T>> {
  const rows = await q.query<T & { last: string | null }>(text, params)
  return { hits: rows.filter((r) => r[hitKey] !== null).map(({ last: _, ...r }) => r as unknown as T), last: rows[0]?.last ?? null }
}
