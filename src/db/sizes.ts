/**
 * How much disk a tier's schemas take: tables with their indexes and TOAST, as PostgreSQL sizes
 * them. It stats the relations' files and reads no rows, so it costs the same at a million
 * messages as at ten; tiers sharing a database are still told apart by their schemas.
 */
import type { Queryable } from './types.ts'

/** Bytes on disk of every table and materialized view in the schemas given (indexes and TOAST included). */
export async function schemaBytes(q: Queryable, schemas: readonly string[]): Promise<number> {
  const [row] = await q.query<{ bytes: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'm')`,
    [schemas],
  )
  return Number(row?.bytes ?? 0)
}
