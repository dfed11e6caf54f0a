/**
 * Searches every tier for a piece of text, case-insensitively, without knowing the schema: every
 * text, varchar, char, json, jsonb, uuid, array and bytea column of every table in the tiers'
 * schemas and pgmq's, plus every message body decompressed with the content codec. What an
 * erasure test asserts "appears nowhere" with: a table added later is searched without anyone
 * remembering to add it here.
 */
import { TIER_NAMES } from '../../src/db/tier-names.ts'
import type { Tiers } from '../../src/db/tiers.ts'
import { unpackBody, type CompressionType } from '../../src/tiers/content/codec.ts'

export interface Hit {
  /** schema.table.column, or content.content_objects[decompressed] for packed bodies. */
  where: string
  rows: number
}

const SEARCHED = new Set(['text', 'character varying', 'character', 'json', 'jsonb', 'uuid', 'ARRAY', 'bytea'])

/** Every place `text` occurs (lowercased comparison), with how many rows hold it there. */
export async function searchTiers(tiers: Tiers, text: string): Promise<Hit[]> {
  const needle = text.toLowerCase()
  const hits: Hit[] = []
  for (const db of new Set(TIER_NAMES.map((t) => tiers[t]))) {
    const columns = await db.query<{ schema: string; table: string; column: string; type: string }>(
      `SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column, c.data_type AS type
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.table_schema IN ('oltp', 'content', 'analytics', 'queue', 'pgmq')
        ORDER BY 1, 2, 3`,
    )
    for (const c of columns.filter((c) => SEARCHED.has(c.type))) {
      const col = `"${c.column}"`
      const expr = c.type === 'bytea' ? `encode(${col}, 'escape')` : `${col}::text`
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${c.schema}"."${c.table}" WHERE strpos(lower(${expr}), $1) > 0`, [
        needle,
      ])
      if (row!.n > 0) hits.push({ where: `${c.schema}.${c.table}.${c.column}`, rows: row!.n })
    }
  }
  const bodies = await tiers.content.query<{
    compression_type: CompressionType
    content_text: string | null
    content_html: string | null
    content_text_packed: Uint8Array | null
    content_html_packed: Uint8Array | null
  }>(`SELECT compression_type, content_text, content_html, content_text_packed, content_html_packed FROM content.content_objects WHERE compression_type <> 'none'`)
  const packed = bodies.filter((b) => {
    const { content_text, content_html } = unpackBody(b)
    return `${content_text ?? ''}\n${content_html ?? ''}`.toLowerCase().includes(needle)
  }).length
  if (packed > 0) hits.push({ where: 'content.content_objects[decompressed]', rows: packed })
  return hits
}
