/**
 * The lead import's input: a CSV (header row naming email, first_name, last_name) or NDJSON body,
 * read as it streams in and turned into checked rows for the service (src/services/lead-import.ts).
 * A row is checked with the same rules as POST /v1/leads; what is wrong with it is reported by
 * line and field, and the import goes on. Only what makes the whole body unreadable (a wrong
 * Content-Type, no email column, bytes that are not UTF-8) refuses the request.
 */
import { z } from '@hono/zod-openapi'
import { AppError, invalid } from '../errors.ts'
import { csvRecords } from '../import/csv.ts'
import { lines } from '../import/lines.ts'
import { utf8Chunks } from '../import/text.ts'
import { MAX_IMPORT_RECORD_CHARS } from '../limits.ts'
import type { ImportRow, ImportSource } from '../services/lead-import.ts'
import { Email, headerText } from './schemas.ts'

export const IMPORT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const
type Format = keyof typeof IMPORT_TYPES

const COLUMNS = ['email', 'first_name', 'last_name'] as const
/** Keys the report lists as ignored, at most, each cut to 100 characters. */
const MAX_IGNORED = 50
const known = (key: string) => (COLUMNS as readonly string[]).includes(key)
const noteIgnored = (ignored: string[], key: string) => {
  const shown = key.slice(0, 100)
  if (!known(key) && key !== '' && ignored.length < MAX_IGNORED && !ignored.includes(shown)) ignored.push(shown)
}

/** An empty cell or string is no value: it keeps a stored name rather than clearing it. */
const given = (v: unknown) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v)
const Name = z.preprocess(given, headerText(z.string().max(100)).optional())
const ImportedLead = z.object({ email: z.preprocess(given, Email), first_name: Name, last_name: Name })

export function importFormat(contentType: string | undefined): Format {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (essence === IMPORT_TYPES.csv) return 'csv'
  if (essence === IMPORT_TYPES.ndjson || essence === 'application/ndjson') return 'ndjson'
  throw new AppError('unsupported_media_type', `send the leads as ${IMPORT_TYPES.csv} or ${IMPORT_TYPES.ndjson}`)
}

function check(row: number, value: unknown): ImportRow {
  const parsed = ImportedLead.safeParse(value)
  if (!parsed.success) {
    return { row, errors: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(row)', message: i.message })) }
  }
  const { email, first_name, last_name } = parsed.data
  return { row, lead: { email, first_name: first_name ?? null, last_name: last_name ?? null } }
}

const rowProblem = (row: number, message: string): ImportRow => ({ row, errors: [{ field: '(row)', message }] })
const TOO_LONG = `is longer than ${MAX_IMPORT_RECORD_CHARS} characters`

/** Header names compare without case, spaces or dashes: "First Name" is first_name. */
const columnName = (h: string) => h.trim().toLowerCase().replace(/[\s-]+/g, '_')

async function* csvRows(chunks: AsyncIterable<string>, ignored: string[]): AsyncGenerator<ImportRow> {
  let columns: string[] | undefined
  for await (const r of csvRecords(chunks, MAX_IMPORT_RECORD_CHARS)) {
    if (!columns) {
      if (r.tooLong || r.unterminated) throw invalid('the CSV header row cannot be read', '(header)', r.tooLong ? TOO_LONG : 'has a quote that never closes')
      columns = r.fields.map(columnName)
      const twice = columns.find((c, i) => c !== '' && columns!.indexOf(c) !== i)
      if (twice) throw invalid(`the CSV header row names ${twice} twice`, twice, 'is named twice in the header row')
      if (!columns.includes('email')) {
        // A spreadsheet saved with semicolons or tabs reads as one column here: say so.
        const hint = r.fields.length === 1 && /[;\t]/.test(r.fields[0]!) ? '; columns must be separated by commas' : ''
        throw invalid(`the CSV header row has no email column${hint}`, 'email', `no such column in the header row${hint}`)
      }
      for (const c of columns) noteIgnored(ignored, c)
      continue
    }
    if (r.tooLong) yield rowProblem(r.line, TOO_LONG)
    else if (r.unterminated) yield rowProblem(r.line, 'has a quote that never closes')
    else if (r.fields.length > columns.length) yield rowProblem(r.line, `has ${r.fields.length} fields; the header row has ${columns.length}`)
    else {
      const cells: Record<string, string> = {}
      columns.forEach((c, i) => known(c) && (cells[c] = r.fields[i] ?? ''))
      yield check(r.line, cells)
    }
  }
  if (!columns) throw invalid('the body is empty: send a header row, then one row per lead', '(body)', 'no header row')
}

async function* ndjsonRows(chunks: AsyncIterable<string>, ignored: string[]): AsyncGenerator<ImportRow> {
  for await (const l of lines(chunks, MAX_IMPORT_RECORD_CHARS)) {
    if (l.tooLong) {
      yield rowProblem(l.line, TOO_LONG)
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(l.text)
    } catch {
      yield rowProblem(l.line, 'is not valid JSON')
      continue
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield rowProblem(l.line, 'must be a JSON object')
      continue
    }
    for (const k of Object.keys(value)) noteIgnored(ignored, k)
    yield check(l.line, value)
  }
}

/** The body's rows, parsed and checked lazily as the service reads them. */
export function leadRows(format: Format, body: ReadableStream<Uint8Array> | null): ImportSource {
  const ignoredColumns: string[] = []
  const chunks = utf8Chunks(body)
  const rows = format === 'csv' ? csvRows(chunks, ignoredColumns) : ndjsonRows(chunks, ignoredColumns)
  return { rows, ignoredColumns }
}
