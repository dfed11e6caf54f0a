/**
 * COPY plumbing for the dataset loader: where each generated row goes (a table and its columns,
 * checked against the tier's drizzle schema, so a renamed column fails to compile here) and the
 * streaming of text-format lines into it.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type postgres from 'postgres'
import { getTableName, type Table } from 'drizzle-orm'
import { attachmentBlobs, attachments, contentObjects } from '../../src/tiers/content/schema.ts'
import { apiKeys, campaigns, emailAccounts, inboxMessageRefs, leads, sequenceSteps, tenants } from '../../src/tiers/oltp/schema.ts'

export const N = '\\N'
export const opt = (v: string | null | undefined) => (v == null ? N : v)
export const iso = (d: Date) => d.toISOString()
const line = (cells: readonly (string | number)[]) => `${cells.join('\t')}\n`
export const hexBytea = (b: Uint8Array | null) => (b ? `\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}` : N)

/** Lines joined into writes of about 1 MB: one socket write per line costs more than the copy. */
function* batches(lines: string[]) {
  let out = ''
  for (const l of lines) {
    out += l
    if (out.length >= 1 << 20) {
      yield out
      out = ''
    }
  }
  if (out) yield out
}

/** A table and the columns a COPY into it fills, checked against the table's drizzle schema. */
export interface CopyTarget<K extends string> {
  table: string
  columns: readonly K[]
}

function target<T extends Table, const K extends keyof T['$inferInsert'] & string>(schema: string, table: T, columns: readonly K[]): CopyTarget<K> {
  return { table: `${schema}.${getTableName(table)}`, columns }
}

/** One COPY line from a row keyed by column name, in the target's column order. */
export const row = <K extends string>(t: CopyTarget<K>, values: Record<K, string | number>) => line(t.columns.map((c) => values[c]))

/** Seconds spent in each table's COPY (they overlap: three run at once). */
export const copySeconds: Record<string, number> = {}

export async function copyIn(sql: postgres.Sql, { table, columns }: CopyTarget<string>, lines: string[]) {
  if (lines.length === 0) return
  const started = performance.now()
  const writable = await sql.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN`).writable()
  await pipeline(Readable.from(batches(lines)), writable)
  copySeconds[table] = (copySeconds[table] ?? 0) + (performance.now() - started) / 1000
}

/** Every table the loader fills. */
export const T = {
  tenants: target('oltp', tenants, ['id', 'name', 'created']),
  apiKeys: target('oltp', apiKeys, ['id', 'tenant_id', 'key_hash', 'prefix', 'name', 'scopes']),
  emailAccounts: target('oltp', emailAccounts, ['tenant_id', 'id', 'email_address']),
  campaigns: target('oltp', campaigns, ['tenant_id', 'id', 'name', 'status']),
  steps: target('oltp', sequenceSteps, ['tenant_id', 'id', 'campaign_id', 'step_number']),
  leads: target('oltp', leads, ['tenant_id', 'id', 'email', 'first_name', 'last_name']),
  // content_storage_key stays NULL: the default key is derived on read (src/storage-keys.ts).
  refs: target('oltp', inboxMessageRefs, [
    'tenant_id', 'id', 'email_account_id', 'campaign_id', 'sequence_step_id', 'lead_id', 'parent_message_id', 'direction',
    'message_type', 'from_email', 'to_email', 'subject', 'status', 'rfc822_message_id', 'created', 'updated',
  ]),
  content: target('content', contentObjects, [
    'storage_key', 'tenant_id', 'kind', 'content_text_packed', 'content_html_packed', 'headers', 'raw_size_bytes',
    'stored_size_bytes', 'compression_type', 'created', 'expires',
  ]),
  blobs: target('content', attachmentBlobs, ['tenant_id', 'sha256', 'size_bytes', 'content', 'created']),
  attachments: target('content', attachments, [
    'id', 'tenant_id', 'parent_storage_key', 'filename', 'mime_type', 'size_bytes', 'sha256', 'blob_sha256', 'storage_disposition', 'created',
  ]),
  // The legacy design is not ours: its columns are those of bench/legacy/schema.ts.
  legacy: {
    table: 'legacy.emails',
    columns: [
      'id', 'tenant_id', 'email_account_id', 'campaign_id', 'sequence_step_id', 'lead_id', 'parent_message_id', 'direction',
      'message_type', 'from_email', 'to_email', 'subject', 'status', 'message_id', 'content_text', 'content_html', 'headers', 'created', 'updated',
    ],
  },
  legacyAttachments: { table: 'legacy.email_attachments', columns: ['id', 'email_id', 'filename', 'mime_type', 'size_bytes', 'content', 'created'] },
} as const
