/**
 * `legacy finalize`: the cutover, once nothing is left to move. Refused, naming why, unless every
 * batch verifies clean and follow has no lag (no pending captured change, no row past the
 * checkpoint). Then, on the legacy side in one locked transaction (src/legacy/capture.ts), the
 * capture stops and the table is renamed to an archive name; the act is in the audit trail as
 * `legacy.finalize`, bracketed (an intent row commits before the legacy change, the outcome
 * after), since the change is in another database than the audit log.
 */
import type { Deps } from '../../deps.ts'
import { AppError, conflictWith } from '../../errors.ts'
import { archiveLegacyTable, FinalizeRefused, type Archived, type Capture } from '../../legacy/capture.ts'
import type { LegacyReader } from '../../legacy/source.ts'
import type { LegacyRun } from '../../tiers/oltp/legacy.ts'
import { ADMIN_ACTOR, bracketed } from '../audit.ts'
import { followStatus } from './follow.ts'
import { verifyLegacy } from './verify.ts'

export interface FinalizeResult {
  run: string
  rows: number
  archived: Archived
  capture_was_installed: boolean
}

/** The archive suffix: the day of the cutover, so a second migration of the same name stays apart. */
export const archiveSuffix = (now: Date) => `_archived_${now.toISOString().slice(0, 10).replaceAll('-', '')}`

export async function finalizeLegacy(deps: Deps, o: { reader: LegacyReader; run: LegacyRun; capture: Capture }): Promise<FinalizeResult> {
  const m = o.reader.mapping
  if (m.tenant_column && o.run.tenant_id) {
    throw conflictWith(`run ${o.run.name} covers only tenant ${o.run.tenant_id}; finalize archives the whole table ${m.table}, so it needs a run over every tenant`, 'run', 'one tenant only')
  }
  const report = await verifyLegacy(deps, { reader: o.reader, run: o.run })
  if (report.mismatches) {
    const ids = report.batches.flatMap((b) => b.mismatches.map((x) => x.legacy_id))
    throw conflictWith(`verify found ${report.mismatches} mismatched rows (legacy ids ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}); run legacy follow or legacy verify to see why`, 'verify', 'mismatches')
  }
  const status = await followStatus(deps, { reader: o.reader, run: o.run.name, capture: o.capture })
  if (status.lag_rows) {
    throw conflictWith(`follow lag is ${status.lag_rows} rows (${status.pending_changes} captured changes pending, ${status.not_migrated} rows past the checkpoint); run legacy follow until status shows 0`, 'lag', 'not zero')
  }
  const detail = { table: m.table, rows: status.migrated, batches: status.batches, capture: status.capture_installed }
  const change = { tenantId: o.run.tenant_id, action: 'legacy.finalize', targetType: 'legacy_run', targetId: o.run.name, actor: ADMIN_ACTOR, detail }
  try {
    const archived = await bracketed(
      deps,
      change,
      () => archiveLegacyTable(o.reader.db, m, { suffix: archiveSuffix(new Date(deps.clock.now())), checkpoint: status.checkpoint }),
      undefined,
      (a) => ({ detail: { ...detail, archived_as: a.table, attachments_archived_as: a.attachments } }),
    )
    return { run: o.run.name, rows: status.migrated, archived, capture_was_installed: status.capture_installed }
  } catch (err) {
    if (err instanceof FinalizeRefused) throw conflictWith(err.message, 'lag', 'not zero')
    if (err instanceof AppError) throw err
    throw conflictWith(`the legacy side refused the cutover: ${(err as Error).message}; nothing was archived`, 'source', 'refused')
  }
}
