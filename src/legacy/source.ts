/**
 * The legacy database, read-only: open it, check a mapping against the table it names, and read
 * rows in keyset order of the legacy id. Every column is read through the mapping into one row
 * shape (LegacyRow), ids as text, so the rest of the migration never sees a legacy column name.
 */
import { postgresDb } from '../db/postgres.ts'
import type { Db } from '../db/types.ts'
import { AppError, invalid } from '../errors.ts'
import { parseMail, type ParsedMail } from '../inbound/parse.ts'
import { mappedColumns, type Mapping } from './mapping.ts'

export interface LegacyRow {
  legacy_id: string
  tenant_id: string | null
  email_account: string | null
  campaign_id: string | null
  sequence_step_id: string | null
  lead_id: string | null
  parent_id: string | null
  direction: string | null
  message_type: string | null
  from_email: string | null
  to_email: string | null
  subject: string | null
  status: string | null
  rfc822_message_id: string | null
  created: Date | null
  content_text: string | null
  content_html: string | null
  headers: string | null
  /** The raw message (mapping setting columns.raw_mime): text or bytes as the column holds it. */
  raw_mime: string | Uint8Array | null
  /** That message parsed, or why it could not be (the reader parses it; transformRow uses it). */
  parsed?: ParsedMail | { error: string }
}

export interface LegacyAttachment {
  legacy_id: string
  filename: string | null
  mime_type: string | null
  content: Uint8Array | null
  disposition: string | null
}

const ident = (name: string) => name.split('.').map((p) => `"${p}"`).join('.')

/** Opens the legacy database and proves it answers; an unreachable one is one clear error. */
export async function openSource(url: string): Promise<Db> {
  let db: Db
  try {
    db = postgresDb(url, { max: 2, applicationName: 'edp-legacy' })
  } catch (err) {
    throw new AppError('service_unavailable', `the legacy source URL is not usable: ${(err as Error).message}`)
  }
  try {
    await db.query('SELECT 1')
  } catch (err) {
    await db.close().catch(() => {})
    throw new AppError('service_unavailable', `cannot reach the legacy source ${db.label}: ${(err as Error).message}`)
  }
  return db
}

/** The source as a run records it: host, database and table, never a user's password. */
export function sourceLabel(url: string, table: string): string {
  try {
    const u = new URL(url)
    return `${u.host}${u.pathname} ${table}`
  } catch {
    return table
  }
}

export interface TableInfo {
  columns: Map<string, string>
  attachmentColumns: Map<string, string>
}

async function describe(db: Db, table: string, setting: string): Promise<Map<string, string>> {
  const rows = await db.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [ident(table)],
  )
  if (rows.length === 0) throw invalid(`the legacy source has no table ${table} (mapping setting ${setting})`, setting, 'no such table')
  return new Map(rows.map((r) => [r.name, r.type]))
}

function requireColumn(columns: Map<string, string>, table: string, setting: string, column: string): string {
  const type = columns.get(column)
  if (!type) throw invalid(`the legacy table ${table} has no column "${column}" (mapping setting ${setting})`, setting, `no column ${column}`)
  return type
}

/**
 * Checks every column the mapping names against the table, and that the id is a unique key of
 * the type the mapping says. Nothing is written before this passes.
 */
export async function checkMapping(db: Db, m: Mapping): Promise<TableInfo> {
  const columns = await describe(db, m.table, 'table')
  for (const [setting, column] of mappedColumns(m)) requireColumn(columns, m.table, setting, column)
  if (m.columns.raw_mime && !['text', 'bytea'].includes(columns.get(m.columns.raw_mime)!.replace(/^character varying.*/, 'text'))) {
    throw invalid(`the raw_mime column "${m.columns.raw_mime}" is ${columns.get(m.columns.raw_mime)}; it must be text or bytea (mapping setting columns.raw_mime)`, 'columns.raw_mime', 'not text or bytea')
  }
  const idType = columns.get(m.id.column)!
  const integral = ['bigint', 'integer', 'smallint'].includes(idType)
  if ((m.id.type === 'uuid' && idType !== 'uuid') || (m.id.type === 'bigint' && !integral)) {
    throw invalid(`the legacy id column "${m.id.column}" is ${idType}, but mapping setting id.type says ${m.id.type}`, 'id.type', `column is ${idType}`)
  }
  const [unique] = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                     WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND a.attname = $2) AS ok`,
    [ident(m.table), m.id.column],
  )
  if (!unique!.ok) throw invalid(`the legacy id column "${m.id.column}" has no unique index: batches walk a unique key`, 'id.column', 'not unique')
  if (m.inline_attachments && !['json', 'jsonb', 'text'].includes(columns.get(m.inline_attachments.column)!.replace(/^character varying.*/, 'text'))) {
    const c = m.inline_attachments.column
    throw invalid(`the inline_attachments column "${c}" is ${columns.get(c)}; it must be json, jsonb or text holding JSON (mapping setting inline_attachments.column)`, 'inline_attachments.column', 'not JSON')
  }
  let attachmentColumns = new Map<string, string>()
  if (m.attachments) {
    const a = m.attachments
    attachmentColumns = await describe(db, a.table, 'attachments.table')
    for (const key of ['message_column', 'id_column', 'filename', 'mime_type', 'content', 'disposition'] as const) {
      if (a[key]) requireColumn(attachmentColumns, a.table, `attachments.${key}`, a[key])
    }
  }
  return { columns, attachmentColumns }
}

/** Reads rows of one legacy table through one mapping. */
export class LegacyReader {
  private readonly select: string
  private readonly idType: string
  private readonly attachmentKeyType: string

  constructor(
    readonly db: Db,
    readonly mapping: Mapping,
    info: TableInfo,
    /** Only this tenant's rows (a tenant column and --tenant). */
    private readonly tenantFilter: string | null = null,
  ) {
    this.idType = info.columns.get(mapping.id.column)!
    // Compared in the column's own type, so the lookups use its index.
    this.attachmentKeyType = mapping.attachments ? info.attachmentColumns.get(mapping.attachments.message_column)! : 'text'
    const c = mapping.columns
    const col = (name: string | null, as: string, cast = '::text') => `${name ? `t.${ident(name)}${cast}` : `NULL${cast}`} AS ${as}`
    this.select = [
      col(mapping.id.column, 'legacy_id'),
      col(mapping.tenant_column, 'tenant_id'),
      col(c.email_account_id ?? c.email_account_address, 'email_account'),
      ...(['campaign_id', 'sequence_step_id', 'lead_id', 'parent_id', 'direction', 'message_type', 'from_email', 'to_email'] as const).map((f) =>
        col(c[f], f),
      ),
      ...(['subject', 'status', 'rfc822_message_id', 'content_text', 'content_html', 'headers'] as const).map((f) => col(c[f], f)),
      col(c.created, 'created', '::timestamptz'),
      col(c.raw_mime, 'raw_mime', ''),
    ].join(', ')
  }

  /** Rows of the main table, their raw messages parsed when the mapping has one. */
  private async rows(sql: string, params: unknown[]): Promise<LegacyRow[]> {
    const rows = await this.db.query<LegacyRow>(sql, params)
    if (!this.mapping.columns.raw_mime) return rows
    for (const r of rows) {
      if (r.raw_mime === null) continue
      const bytes = typeof r.raw_mime === 'string' ? new TextEncoder().encode(r.raw_mime) : r.raw_mime
      r.parsed = await parseMail(bytes).catch((err: Error) => ({ error: err.message }))
    }
    return rows
  }

  private get id() {
    return `t.${ident(this.mapping.id.column)}`
  }

  private where(conditions: string[], params: unknown[]): string {
    const all = [...conditions]
    if (this.tenantFilter && this.mapping.tenant_column) {
      all.push(`t.${ident(this.mapping.tenant_column)}::text = $${params.push(this.tenantFilter)}`)
    }
    return all.length ? `WHERE ${all.join(' AND ')}` : ''
  }

  /** The next `limit` rows after a legacy key (from the start when null), in key order. */
  batchAfter(after: string | null, limit: number): Promise<LegacyRow[]> {
    const params: unknown[] = []
    const where = this.where(after === null ? [] : [`${this.id} > $${params.push(after)}::${this.idType}`], params)
    return this.rows(
      `SELECT ${this.select} FROM ${ident(this.mapping.table)} t ${where} ORDER BY ${this.id} LIMIT $${params.push(limit)}`,
      params,
    )
  }

  /** The rows with keys in (after, last], as one batch held them. */
  range(after: string | null, last: string): Promise<LegacyRow[]> {
    const params: unknown[] = []
    const conditions = [`${this.id} <= $${params.push(last)}::${this.idType}`]
    if (after !== null) conditions.push(`${this.id} > $${params.push(after)}::${this.idType}`)
    return this.rows(`SELECT ${this.select} FROM ${ident(this.mapping.table)} t ${this.where(conditions, params)} ORDER BY ${this.id}`, params)
  }

  byIds(ids: readonly string[]): Promise<LegacyRow[]> {
    const params: unknown[] = [ids]
    return this.rows(
      `SELECT ${this.select} FROM ${ident(this.mapping.table)} t ${this.where([`${this.id} = ANY($1::${this.idType}[])`], params)} ORDER BY ${this.id}`,
      params,
    )
  }

  /** The key `n` rows after `after` (or the last one, when fewer are left); null when none are: a batch's end. */
  async keyAfter(after: string | null, n: number): Promise<string | null> {
    const params: unknown[] = []
    const where = this.where(after === null ? [] : [`${this.id} > $${params.push(after)}::${this.idType}`], params)
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM (SELECT ${this.id} AS k, ${this.id}::text AS id FROM ${ident(this.mapping.table)} t ${where} ORDER BY ${this.id} LIMIT $${params.push(n)}) s
        ORDER BY k DESC LIMIT 1`,
      params,
    )
    return rows[0]?.id ?? null
  }

  /** `n` keys at random among those up to `last` (a verify sample). */
  async sampleIds(n: number, last: string): Promise<string[]> {
    const params: unknown[] = []
    const where = this.where([`${this.id} <= $${params.push(last)}::${this.idType}`], params)
    const rows = await this.db.query<{ id: string }>(
      `SELECT ${this.id}::text AS id FROM ${ident(this.mapping.table)} t ${where} ORDER BY random() LIMIT $${params.push(n)}`,
      params,
    )
    return rows.map((r) => r.id)
  }

  /**
   * Rows after a key (all when null): what is left to migrate. With `excluding` (a capture table),
   * those it does not list already, so follow's lag counts a row once.
   */
  async countAfter(after: string | null, excluding?: string): Promise<number> {
    const params: unknown[] = []
    const conditions = after === null ? [] : [`${this.id} > $${params.push(after)}::${this.idType}`]
    if (excluding) conditions.push(`NOT EXISTS (SELECT 1 FROM ${ident(excluding)} c WHERE c.legacy_id = ${this.id}::text)`)
    const where = this.where(conditions, params)
    const [row] = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(this.mapping.table)} t ${where}`, params)
    return Number(row!.n)
  }

  /** Rows, bytes on disk (heap, TOAST and indexes; the attachments table apart) and the date range. */
  async stats() {
    const params: unknown[] = [ident(this.mapping.table), this.mapping.attachments ? ident(this.mapping.attachments.table) : null]
    const [r] = await this.db.query<{ rows: string; bytes: string; attachment_bytes: string | null; oldest: Date | null; newest: Date | null }>(
      `SELECT count(*) AS rows, pg_total_relation_size(to_regclass($1)) AS bytes,
              pg_total_relation_size(to_regclass($2)) AS attachment_bytes,
              min(t.${ident(this.mapping.columns.created)}) AS oldest, max(t.${ident(this.mapping.columns.created)}) AS newest
         FROM ${ident(this.mapping.table)} t ${this.where([], params)}`,
      params,
    )
    return { rows: Number(r!.rows), bytes: Number(r!.bytes), attachment_bytes: r!.attachment_bytes === null ? null : Number(r!.attachment_bytes), oldest: r!.oldest, newest: r!.newest }
  }

  /** A column's distinct values with their row counts, most frequent first (vocabularies, mailboxes). */
  valueCounts(columns: string[], limit = 1000) {
    const params: unknown[] = []
    const list = columns.map((c, i) => `t.${ident(c)}::text AS v${i}`).join(', ')
    return this.db.query<Record<string, string | null> & { rows: string }>(
      `SELECT ${list}, count(*) AS rows FROM ${ident(this.mapping.table)} t ${this.where([], params)}
        GROUP BY ${columns.map((_, i) => i + 1).join(', ')} ORDER BY count(*) DESC LIMIT $${params.push(limit)}`,
      params,
    )
  }

  /** The attachments of these legacy rows, in their legacy order, grouped by legacy id. */
  async attachments(legacyIds: readonly string[]): Promise<Map<string, LegacyAttachment[]>> {
    if (this.mapping.inline_attachments) return this.inlineAttachments(legacyIds)
    const a = this.mapping.attachments
    const byId = new Map<string, LegacyAttachment[]>()
    if (!a || legacyIds.length === 0) return byId
    const rows = await this.db.query<LegacyAttachment>(
      `SELECT a.${ident(a.message_column)}::text AS legacy_id, a.${ident(a.filename)}::text AS filename,
              a.${ident(a.mime_type)}::text AS mime_type, a.${ident(a.content)} AS content,
              ${a.disposition ? `a.${ident(a.disposition)}::text` : 'NULL::text'} AS disposition
         FROM ${ident(a.table)} a WHERE a.${ident(a.message_column)} = ANY($1::${this.attachmentKeyType}[])
        ORDER BY a.${ident(a.message_column)}, a.${ident(a.id_column)}`,
      [legacyIds],
    )
    for (const r of rows) byId.set(r.legacy_id, [...(byId.get(r.legacy_id) ?? []), r])
    return byId
  }

  /**
   * Attachments held in a JSON column of the main table (mapping setting inline_attachments), in
   * array order. A value that is not such an array, or a file without a name, type or base64
   * bytes, is an error naming the row and the element: nothing of the batch is written.
   */
  private async inlineAttachments(legacyIds: readonly string[]): Promise<Map<string, LegacyAttachment[]>> {
    const m = this.mapping.inline_attachments!
    const byId = new Map<string, LegacyAttachment[]>()
    if (legacyIds.length === 0) return byId
    const rows = await this.db.query<{ legacy_id: string; files: string | null }>(
      `SELECT ${this.id}::text AS legacy_id, t.${ident(m.column)}::text AS files FROM ${ident(this.mapping.table)} t
        WHERE ${this.id} = ANY($1::${this.idType}[])`,
      [legacyIds],
    )
    for (const r of rows) {
      if (r.files === null) continue
      const bad = (what: string): never => {
        throw invalid(`legacy row ${r.legacy_id}: ${what} (mapping setting inline_attachments)`, 'inline_attachments', what)
      }
      let list: unknown
      try {
        list = JSON.parse(r.files)
      } catch {
        bad(`column "${m.column}" is not JSON`)
      }
      if (!Array.isArray(list)) bad(`column "${m.column}" holds no JSON array`)
      const files = (list as unknown[]).map((item, i): LegacyAttachment => {
        const f = (item ?? {}) as Record<string, unknown>
        const text = (key: string | null, required: boolean) => {
          const v = key === null ? undefined : f[key]
          if (v === undefined || v === null) return required ? bad(`file ${i} has no "${key}"`) : null
          return typeof v === 'string' ? v : bad(`file ${i}: "${key}" is not a string`)
        }
        const base64 = text(m.content, true)!.replace(/\s+/g, '')
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) bad(`file ${i}: "${m.content}" is not base64`)
        return {
          legacy_id: r.legacy_id,
          filename: text(m.filename, true),
          mime_type: text(m.mime_type, true),
          content: new Uint8Array(Buffer.from(base64, 'base64')),
          disposition: text(m.disposition, false),
        }
      })
      if (files.length) byId.set(r.legacy_id, files)
    }
    return byId
  }
}
