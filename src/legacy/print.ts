/** What the legacy commands print: plain text an operator reads top to bottom. */
import type { LegacyPlan } from '../services/legacy/plan.ts'
import type { MigrateSummary } from '../services/legacy/migrate.ts'
import type { VerifyReport } from '../services/legacy/verify.ts'
import type { FollowStatus } from '../services/legacy/follow.ts'
import type { CompareReport } from '../services/legacy/compare.ts'

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`
const duration = (s: number) => (s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`)

export function planText(p: LegacyPlan, run: string): string {
  const lines = [`table ${p.table} (run ${run})`, '', 'column mapping (setting → legacy column):']
  for (const [setting, column] of p.columns) lines.push(`  ${setting.padEnd(32)} ${column}`)
  lines.push('', `rows            ${p.rows}`, `bytes           ${mb(p.bytes)} (table, TOAST and indexes)`)
  if (p.attachment_bytes !== null) lines.push(`attachments     ${mb(p.attachment_bytes)}`)
  lines.push(`dates           ${p.oldest?.toISOString() ?? '-'} … ${p.newest?.toISOString() ?? '-'}`)
  lines.push('', 'values:')
  for (const v of p.vocabularies) lines.push(`  ${v.setting.padEnd(22)} ${JSON.stringify(v.value).padEnd(16)} ${String(v.rows).padStart(9)} rows → ${v.becomes ?? 'WILL NOT MAP'}`)
  const wont = [
    ...p.unmapped_columns.map((c) => `column ${c} is not read`),
    ...p.vocabularies.filter((v) => v.becomes === null).map((v) => `${v.rows} rows: ${v.setting} ${JSON.stringify(v.value)} has no mapping (add it under values)`),
    ...p.unknown_tenants.map((t) => `tenant ${t} does not exist here`),
    ...p.unknown_mailboxes.map((m) => `${m.rows} rows: tenant ${m.tenant_id} has no mailbox ${m.mailbox}`),
  ]
  lines.push('', 'will not map:', ...(wont.length ? wont.map((w) => `  ${w}`) : ['  nothing']))
  if (p.checkpoint) lines.push('', `already migrated by this run: ${p.checkpoint.rows} rows in ${p.checkpoint.batches} batches`)
  lines.push('', `estimated duration: ${duration(p.estimated_seconds)}`)
  return lines.join('\n')
}

export function migrateText(s: MigrateSummary): string {
  const rate = s.seconds > 0 ? Math.round(s.rows / s.seconds) : 0
  return [
    `run ${s.run}: migrated ${s.rows} messages in ${s.seconds.toFixed(1)} s (${rate}/s); ${s.expired} arrived expired`,
    `run total: ${s.total_rows} messages in ${s.batches} batches; ${s.total_expired} arrived expired (their bodies are dropped by the next content.expire run)`,
  ].join('\n')
}

export function verifyText(r: VerifyReport): string {
  const lines: string[] = []
  for (const b of r.batches) {
    const state = b.mismatches.length ? `${b.mismatches.length} MISMATCHED` : 'ok'
    const sums = b.legacy_checksum === b.our_checksum ? b.our_checksum.slice(0, 16) : `legacy ${b.legacy_checksum.slice(0, 16)} ours ${b.our_checksum.slice(0, 16)}`
    lines.push(`batch ${b.batch ?? '(not in the id map)'}: ${b.rows} rows ${state} checksum ${sums}`)
    for (const m of b.mismatches) lines.push(`  legacy id ${m.legacy_id}: ${m.fields.join(', ')}`)
  }
  lines.push(`run ${r.run}: checked ${r.checked} rows, ${r.mismatches} mismatched${r.not_migrated ? `; ${r.not_migrated} rows not migrated yet` : ''}`)
  return lines.join('\n')
}

export function statusText(s: FollowStatus): string {
  return [
    `run ${s.run}: ${s.migrated} messages in ${s.batches} batches; checkpoint ${s.checkpoint ?? '(none)'}`,
    `capture         ${s.capture_installed ? 'installed' : 'not installed (legacy follow --install-capture)'}`,
    `pending changes ${s.pending_changes}`,
    `not migrated    ${s.not_migrated} rows past the checkpoint`,
    `lag             ${s.lag_rows} rows, ${s.lag_seconds === null ? 'unknown seconds (rows behind that no captured change dates)' : `${s.lag_seconds.toFixed(1)} s`}`,
  ].join('\n')
}

export function compareText(r: CompareReport): string {
  const lines: string[] = []
  for (const d of r.differences) {
    lines.push(`legacy id ${d.legacy_id} (message ${d.message_id}):`)
    for (const f of d.fields) lines.push(`  ${f.field}: legacy ${f.legacy}`, `  ${' '.repeat(f.field.length)}  api    ${f.api}`)
  }
  const expired = r.expired ? ` (${r.expired} with expired content: metadata only)` : ''
  lines.push(`run ${r.run}: compared ${r.compared} messages through the API${expired}, ${r.differences.length} differ`)
  return lines.join('\n')
}
