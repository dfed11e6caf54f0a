/**
 * Bulk lead import. The rows arrive already parsed and checked one by one as the upload streams
 * in (src/http/lead-import.ts); nothing is written until the whole body has been read, so a body
 * over MAX_IMPORT_ROWS (413) or a broken header (422) leaves nothing behind, and no transaction
 * stays open while a slow client uploads. The valid rows are then written in one OLTP transaction,
 * 1,000 per statement: a fault leaves none of them.
 *
 * Idempotent on the address (case-insensitive): a new address creates a lead; a known one gets
 * the names the row gives (an empty cell keeps the stored name; status and id never change); a
 * row that changes nothing counts as unchanged, so importing the same file twice reports
 * everything unchanged the second time. An address that repeats within the file is a failed row
 * naming the first. Suppressed addresses are imported like any other (the lead is a record of the
 * person; the suppression still blocks sending to them) and counted in `suppressed`.
 */
import type { Deps } from '../deps.ts'
import { audit } from './audit.ts'
import { AppError, type FieldError } from '../errors.ts'
import { newId } from '../ids.ts'
import { MAX_IMPORT_ERRORS, MAX_IMPORT_ROWS } from '../limits.ts'
import { upsertLeads, type ImportedLead } from '../tiers/oltp/leads.ts'
import { suppressedAmong } from '../tiers/oltp/suppressions.ts'
import { normalizeAddress } from './suppressions.ts'

/** One data row of the upload: its fields once checked, or what is wrong with it. */
export type ImportRow =
  | { row: number; lead: { email: string; first_name: string | null; last_name: string | null } }
  | { row: number; errors: FieldError[] }

export interface ImportSource {
  rows: AsyncIterable<ImportRow>
  /** Columns (CSV) or keys (NDJSON) the import does not use; known once the rows have been read. */
  ignoredColumns: readonly string[]
}

export interface RowError extends FieldError {
  /** The line of the body where the row starts (1-based; a CSV header is line 1). */
  row: number
}

const BATCH = 1_000

export async function importLeads(deps: Deps, tenantId: string, source: ImportSource) {
  const valid: ImportedLead[] = []
  const firstRow = new Map<string, number>()
  const errors: RowError[] = []
  let rows = 0
  let failed = 0
  const fail = (row: number, list: readonly FieldError[]) => {
    failed++
    for (const e of list) if (errors.length < MAX_IMPORT_ERRORS + 1) errors.push({ row, ...e })
  }
  for await (const r of source.rows) {
    if (++rows > MAX_IMPORT_ROWS) throw new AppError('payload_too_large', `more than ${MAX_IMPORT_ROWS} rows; split the file (nothing was imported)`)
    if ('errors' in r) {
      fail(r.row, r.errors)
      continue
    }
    const key = normalizeAddress(r.lead.email)
    const first = firstRow.get(key)
    if (first !== undefined) {
      fail(r.row, [{ field: 'email', message: `repeats the address of row ${first}, which was imported` }])
      continue
    }
    firstRow.set(key, r.row)
    valid.push({ id: newId(), email: r.lead.email, firstName: r.lead.first_name, lastName: r.lead.last_name })
  }

  let created = 0
  let updated = 0
  let suppressed = 0
  await deps.tiers.oltp.transaction(async (tx) => {
    for (let i = 0; i < valid.length; i += BATCH) {
      const batch = valid.slice(i, i + BATCH)
      const written = await upsertLeads(tx, tenantId, batch)
      created += written.created
      updated += written.updated
      suppressed += (await suppressedAmong(tx, tenantId, batch.map((l) => normalizeAddress(l.email)))).size
    }
    await audit(tx, { tenantId, action: 'lead.import', targetType: 'lead_import', targetId: null, detail: { rows, created, updated, failed } })
  })
  return {
    rows,
    created,
    updated,
    unchanged: valid.length - created - updated,
    failed,
    suppressed,
    ignored_columns: [...source.ignoredColumns],
    errors: errors.slice(0, MAX_IMPORT_ERRORS),
    errors_truncated: errors.length > MAX_IMPORT_ERRORS,
  }
}
