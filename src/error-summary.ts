/**
 * What of an error may be written down: log lines, job_logs.error, a dead letter's error.
 *
 * A database error echoes the values it was given: DETAIL ("Key (email)=(x@y) already exists",
 * "Failing row contains (…)"), WHERE ("portal parameter $1 = '…'"), the message itself
 * ('invalid input syntax for type uuid: "…"', 'value "…" is out of range'), and PGlite attaches
 * the query text and its parameters. Kept: the SQLSTATE code, the names the server reports in
 * fields of their own (schema, table, column, constraint, data type), the routine, and the message
 * with every quoted text that is not one of those names withheld. That names the failing statement's
 * table and constraint, which with the job name and message id is what an operator acts on.
 * Dropped: DETAIL, HINT, WHERE, the query text and its parameters.
 *
 * Any other error keeps its type and message: ours carry ids and names, never payload values.
 * Stacks keep their frames only (the first line repeats the message).
 */

export interface ErrorSummary {
  type: string
  message: string
  /** SQLSTATE, for database errors. */
  code?: string
  schema?: string
  table?: string
  column?: string
  constraint?: string
  data_type?: string
  routine?: string
  cause?: ErrorSummary
}

type Loose = Error & Record<string, unknown>

/** The names a database error reports in fields of their own, under PGlite's and postgres.js's keys. */
const NAME_FIELDS = {
  schema: ['schema', 'schema_name'],
  table: ['table', 'table_name'],
  column: ['column', 'column_name'],
  constraint: ['constraint', 'constraint_name'],
  data_type: ['dataType', 'data_type_name'],
} as const

const isDatabaseError = (e: Loose) => typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string'

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)

export function summarizeError(err: unknown, depth = 0): ErrorSummary {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) }
  const e = err as Loose
  const cause = e.cause !== undefined && depth < 3 ? { cause: summarizeError(e.cause, depth + 1) } : {}
  if (!isDatabaseError(e)) return { type: e.constructor?.name ?? e.name, message: e.message, ...cause }

  const summary: ErrorSummary = { type: 'DatabaseError', message: '', code: e.code as string }
  for (const [key, sources] of Object.entries(NAME_FIELDS)) {
    const name = sources.map((s) => text(e[s])).find(Boolean)
    if (name) summary[key as keyof typeof NAME_FIELDS] = name
  }
  const names = new Set(Object.keys(NAME_FIELDS).map((k) => summary[k as keyof typeof NAME_FIELDS]))
  summary.message = e.message.replace(/"((?:[^"]|"")*)"/g, (quoted, inner: string) => (names.has(inner) ? quoted : '"…"'))
  if (text(e.routine)) summary.routine = e.routine as string
  return { ...summary, ...cause }
}

function lineOf(s: ErrorSummary): string {
  const names = [s.code && `SQLSTATE ${s.code}`, s.table && `table ${s.table}`, s.column && `column ${s.column}`, s.constraint && `constraint ${s.constraint}`]
  const where = names.filter(Boolean).join(', ')
  const line = where ? `${s.message} (${where})` : s.message
  return s.cause ? `${line}; cause: ${lineOf(s.cause)}` : line
}

/** One line for job_logs and dead letters: the message, then the SQLSTATE and names of a database error. */
export const errorLine = (err: unknown): string => lineOf(summarizeError(err)).slice(0, 2000)

/** pino's `err` serializer: the summary and the stack's frames, never the driver's other fields. */
export function serializeErr(err: unknown): unknown {
  const frames = err instanceof Error ? (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : []
  return { ...summarizeError(err), ...(frames.length ? { stack: frames.join('\n') } : {}) }
}
