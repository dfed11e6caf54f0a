/**
 * Searches every tier for a piece of text, case-insensitively, without knowing the schema: every
 * text, varchar, char, json, jsonb, uuid, array and bytea column of every table in the tiers'
 * schemas and pgmq's, plus every message body, its headers and attachment bytes opened with the
 * test master key (src/services/content-keys.ts) and decompressed with the content codec. What an
 * erasure test asserts "appears nowhere" with: a table added later is searched without anyone
 * remembering to add it here.
 */
import { TIER_NAMES } from '../../src/db/tier-names.ts'
import type { Tiers } from '../../src/db/tiers.ts'
import pino from 'pino'
import { ContentKeys, KeyUnavailable } from '../../src/services/content-keys.ts'
import { openBytes, openStored } from '../../src/services/content-seal.ts'
import { unpackBody, type CompressionType } from '../../src/tiers/content/codec.ts'
import { STORED_BYTES } from '../../src/tiers/content/attachments.ts'
import { STORED_BODY_COLUMNS, type StoredColumns } from '../../src/tiers/content/sealing.ts'
import { testConfig } from './system.ts'

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
  const keys = ContentKeys.fromConfig(tiers.content, pino({ level: 'silent' }), testConfig())
  // A row whose key was destroyed (a deleted tenant's) cannot be read by anyone: nothing to find in it.
  const orNull = <T>(p: Promise<T>) => p.catch((err) => (err instanceof KeyUnavailable ? null : Promise.reject(err)))
  const bodies = await tiers.content.query<StoredColumns & { tenant_id: string; compression_type: CompressionType }>(
    `SELECT ${STORED_BODY_COLUMNS.join(', ')}
       FROM content.content_objects WHERE compression_type <> 'none' OR key_id IS NOT NULL`,
  )
  let packed = 0
  for (const b of bodies) {
    const clear = await orNull(openStored(keys, b.tenant_id, b))
    if (!clear) continue
    const { content_text, content_html } = unpackBody(clear)
    const headers = b.key_id === null ? '' : JSON.stringify(clear.headers)
    if (`${content_text ?? ''}\n${content_html ?? ''}\n${headers}`.toLowerCase().includes(needle)) packed++
  }
  if (packed > 0) hits.push({ where: 'content.content_objects[decompressed]', rows: packed })
  const files = await tiers.content.query<{ tenant_id: string; content: Uint8Array | null; key_id: string | null; nonce: Uint8Array | null; sealed_as: string }>(
    `SELECT a.tenant_id, ${STORED_BYTES} FROM content.attachments a
       LEFT JOIN content.attachment_blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.blob_sha256
      WHERE coalesce(b.key_id, a.key_id) IS NOT NULL`,
  )
  let opened = 0
  for (const f of files) {
    const bytes = await orNull(openBytes({ contentKeys: keys }, f.tenant_id, f))
    if (bytes && new TextDecoder().decode(bytes).toLowerCase().includes(needle)) opened++
  }
  if (opened > 0) hits.push({ where: 'content.attachments[opened]', rows: opened })
  return hits
}
