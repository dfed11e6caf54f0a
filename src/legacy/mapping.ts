/**
 * How a legacy `emails` table maps onto refs and content: a JSON file validated here, once, with
 * errors that name the setting. Every default is the benchmark's legacy schema (bench/legacy/),
 * so that shape needs only its table name and attachments; any other shape says what differs.
 * A column setting of null means the legacy table has no such column.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { AppError, invalid } from '../errors.ts'

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const Column = z.string().regex(NAME, 'must be a plain column name (letters, digits, _)')
const Optional = Column.nullable()
/** A key of a JSON object. */
const JsonKey = z.string().min(1).max(100)
const Table = z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'must be table or schema.table')

const columnsSchema = z
  .strictObject({
    /** The mailbox: its uuid in the legacy row, or its address, looked up among the tenant's email accounts. */
    email_account_id: Optional.default('email_account_id'),
    email_account_address: Optional.default(null),
    campaign_id: Optional.default('campaign_id'),
    sequence_step_id: Optional.default('sequence_step_id'),
    lead_id: Optional.default('lead_id'),
    /** The legacy id of the row this one answers (threading). */
    parent_id: Optional.default('parent_message_id'),
    direction: Column.default('direction'),
    message_type: Optional.default('message_type'),
    from_email: Optional.default('from_email'),
    to_email: Optional.default('to_email'),
    subject: Optional.default('subject'),
    status: Optional.default('status'),
    rfc822_message_id: Optional.default('message_id'),
    /** The original date: the ref keeps it, and retention counts from it. */
    created: Column.default('created'),
    content_text: Optional.default('content_text'),
    content_html: Optional.default('content_html'),
    headers: Optional.default('headers'),
    /**
     * The whole message as RFC 5322 text or bytes, parsed with the inbound parser: text, html,
     * headers and its attachments (inline ones too) come from it, and from, to, subject and
     * Message-ID where the mapping names no column for them.
     */
    raw_mime: Optional.default(null),
  })
  .refine((c) => (c.email_account_id === null) !== (c.email_account_address === null), {
    message: 'name exactly one of email_account_id (a uuid column) and email_account_address (an address column); set the other to null',
    path: ['email_account_id'],
  })
  .refine((c) => c.raw_mime !== null || (c.from_email !== null && c.to_email !== null), {
    message: 'from_email and to_email need a column unless raw_mime gives them',
    path: ['from_email'],
  })
  .refine((c) => c.raw_mime === null || (c.content_text === null && c.content_html === null && c.headers === null), {
    message: 'with raw_mime, the body and headers come from the message: set content_text, content_html and headers to null',
    path: ['raw_mime'],
  })

export const mappingSchema = z.strictObject({
  table: Table.default('emails'),
  id: z
    .strictObject({
      column: Column.default('id'),
      /** uuid ids are kept; bigint ids become deterministic UUIDv8s (src/legacy/ids.ts). */
      type: z.enum(['uuid', 'bigint']).default('uuid'),
      /** Mixed into bigint-derived ids, so two legacy tables with the same numbers never collide. Default: the table. */
      namespace: z.string().min(1).max(200).optional(),
    })
    .prefault({}),
  /** The tenant column; null for a single-tenant source, whose tenant `--tenant` names. */
  tenant_column: Optional.default('tenant_id'),
  columns: columnsSchema.prefault({}),
  /** headers: JSON ({name: value} or [{name, value}]) or the raw RFC 5322 header block. */
  headers_format: z.enum(['json', 'raw']).default('json'),
  /** Legacy vocabularies: legacy value → ours. Values already ours map to themselves. */
  values: z
    .strictObject({
      direction: z.record(z.string(), z.enum(['inbound', 'outbound'])).default({}),
      message_type: z.record(z.string(), z.enum(['email', 'bounce', 'auto_reply'])).default({}),
      status: z.record(z.string(), z.string().min(1).max(50)).default({}),
    })
    .prefault({}),
  /** Attachments in a side table, one row per file; null when there are none. */
  attachments: z
    .strictObject({
      table: Table,
      message_column: Column,
      id_column: Column.default('id'),
      filename: Column.default('filename'),
      mime_type: Column.default('mime_type'),
      content: Column.default('content'),
      disposition: Optional.default(null),
    })
    .nullable()
    .default(null),
  /**
   * Attachments inline in the main table instead: a json, jsonb or text column holding, per row, a
   * JSON array of objects, each one file under these keys (its bytes in base64); null when the
   * table has none.
   */
  inline_attachments: z
    .strictObject({
      column: Column,
      filename: JsonKey.default('filename'),
      mime_type: JsonKey.default('mime_type'),
      content: JsonKey.default('content_base64'),
      /** The key of `attachment` or `inline`; a file without it is an attachment. */
      disposition: JsonKey.nullable().default('disposition'),
    })
    .nullable()
    .default(null),
})
  .refine((m) => !(m.attachments && m.inline_attachments), {
    message: 'attachments come from a side table (attachments) or a column (inline_attachments), not both: set one to null',
    path: ['inline_attachments'],
  })
  .refine((m) => !(m.columns.raw_mime && m.inline_attachments), {
    message: 'with raw_mime, the attachments come from the message: set inline_attachments to null',
    path: ['inline_attachments'],
  })

export type Mapping = z.infer<typeof mappingSchema>
export type MappedField = keyof Mapping['columns']

/** A mapping from parsed JSON; a bad one is one error naming every bad setting. */
export function parseMapping(json: unknown, origin = 'mapping'): Mapping {
  const result = mappingSchema.safeParse(json)
  if (result.success) return result.data
  const errors = result.error.issues.map((i) => ({ field: i.path.join('.') || '(top level)', message: i.message }))
  throw new AppError('validation_failed', errors.map((e) => `${origin} setting "${e.field}": ${e.message}`).join('\n'), errors)
}

/** The mapping in a file, or the defaults (the benchmark's shape) when none is given. */
export async function loadMapping(path?: string, overrides: { table?: string } = {}): Promise<Mapping> {
  let json: Record<string, unknown> = {}
  if (path) {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      throw invalid(`cannot read the mapping file ${path}: ${(err as Error).message}`, 'mapping', 'unreadable')
    }
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw invalid(`the mapping file ${path} is not JSON: ${(err as Error).message}`, 'mapping', 'not JSON')
    }
  }
  if (overrides.table) json = { ...json, table: overrides.table }
  return parseMapping(json, path ? `mapping file ${path}` : 'mapping')
}

/** The legacy columns a mapping reads from the main table, by our field name. */
export function mappedColumns(m: Mapping): [string, string][] {
  const cols: [string, string][] = [['id.column', m.id.column]]
  if (m.tenant_column) cols.push(['tenant_column', m.tenant_column])
  for (const [field, column] of Object.entries(m.columns)) if (column) cols.push([`columns.${field}`, column])
  if (m.inline_attachments) cols.push(['inline_attachments.column', m.inline_attachments.column])
  return cols
}

/** Stable JSON of a mapping, to tell whether a resumed run uses the one it started with. */
export const mappingKey = (m: Mapping) => JSON.stringify(m, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v))
