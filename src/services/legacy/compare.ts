/**
 * `legacy compare`: the shadow read. N migrated messages at random are read the way a client
 * reads them (GET /v1/messages/{id} and each attachment's bytes, through the HTTP app) and the
 * way the legacy application reads them (its row, through the run's mapping), and every field is
 * compared, so what verify's checksums cannot see (serialisation, the read path, decryption,
 * headers as the API lists them) is covered too. Differences are reported field by field.
 */
import type { Deps } from '../../deps.ts'
import { sha256Hex } from '../../ids.ts'
import type { LegacyReader } from '../../legacy/source.ts'
import { transformRow, type MigratedMessage } from '../../legacy/transform.ts'
import { findEmailAccountsByAddress } from '../../tiers/oltp/email-accounts.ts'
import { findLegacyIds, sampleMigrated, type LegacyRun } from '../../tiers/oltp/legacy.ts'

/** GET a path of the API as the tenant's key (an in-process app.request, or a server's URL). */
export type ApiGet = (path: string) => Promise<Response>

export interface FieldDifference {
  field: string
  legacy: string
  api: string
}

export interface CompareReport {
  run: string
  compared: number
  /** Messages whose content had expired under retention: metadata compared only. */
  expired: number
  differences: { legacy_id: string; message_id: string; fields: FieldDifference[] }[]
}

const META = ['id', 'email_account_id', 'campaign_id', 'sequence_step_id', 'lead_id', 'parent_message_id', 'direction', 'message_type', 'from_email', 'to_email', 'subject', 'status', 'rfc822_message_id', 'created'] as const

/** A value as the report shows it: JSON, cut short. */
const shown = (v: unknown) => {
  const s = v === undefined ? '(absent)' : JSON.stringify(v)
  return s.length > 120 ? `${s.slice(0, 117)}...` : s
}

interface ApiFile {
  id: string
  filename: string
  mime_type: string
  size_bytes: number
  storage_disposition: string
}

/** The message through the API: its detail, or on 410 (expired content) its ref from the thread. */
async function readApi(get: ApiGet, id: string): Promise<{ ref: Record<string, unknown>; content: Record<string, unknown> | null; files: (ApiFile & { sha256: string | null })[] } | string> {
  const res = await get(`/v1/messages/${id}`)
  if (res.status === 410) {
    await res.body?.cancel()
    const thread = await get(`/v1/messages/${id}/thread`)
    if (thread.status !== 200) return `thread answered ${thread.status}`
    const ref = ((await thread.json()) as { data: Record<string, unknown>[] }).data.find((m) => m.id === id)
    return ref ? { ref, content: null, files: [] } : 'not in its own thread'
  }
  if (res.status !== 200) return `answered ${res.status}: ${(await res.text()).slice(0, 200)}`
  const body = (await res.json()) as Record<string, unknown> & { content: Record<string, unknown>; attachments: ApiFile[] }
  const files = []
  for (const a of body.attachments) {
    const bytes = await get(`/v1/messages/${id}/attachments/${a.id}`)
    files.push({ ...a, sha256: bytes.status === 200 ? sha256Hex(new Uint8Array(await bytes.arrayBuffer())) : (await bytes.body?.cancel(), null) })
  }
  return { ref: body, content: body.content, files }
}

const fileKey = (f: { filename: string; mime_type: string; size: number; disposition: string; sha256: string | null }) =>
  `${f.filename} ${f.mime_type} ${f.size} bytes ${f.disposition} sha256:${f.sha256?.slice(0, 16) ?? 'unreadable'}`

function differences(want: Record<string, unknown>, m: MigratedMessage, api: Exclude<Awaited<ReturnType<typeof readApi>>, string>): FieldDifference[] {
  const out: FieldDifference[] = []
  const diff = (field: string, legacy: unknown, ours: unknown) => {
    if (JSON.stringify(legacy) !== JSON.stringify(ours)) out.push({ field, legacy: shown(legacy), api: shown(ours) })
  }
  for (const f of META) {
    const ours = f === 'created' && typeof api.ref.created === 'string' ? new Date(api.ref.created).toISOString() : api.ref[f]
    diff(f, want[f] ?? null, ours ?? null)
  }
  if (api.content === null) return out
  diff('content_text', m.content_text, api.content.content_text ?? null)
  diff('content_html', m.content_html, api.content.content_html ?? null)
  diff('headers', m.headers ?? [], api.content.headers ?? [])
  const legacyFiles = m.attachments
    .map((a) => fileKey({ filename: a.filename, mime_type: a.mime_type, size: a.bytes.length, disposition: a.storage_disposition, sha256: sha256Hex(a.bytes) }))
    .sort()
  const apiFiles = api.files.map((a) => fileKey({ filename: a.filename, mime_type: a.mime_type, size: a.size_bytes, disposition: a.storage_disposition, sha256: a.sha256 })).sort()
  diff('attachments', legacyFiles, apiFiles)
  return out
}

export async function compareLegacy(deps: Deps, o: { reader: LegacyReader; run: LegacyRun; tenant: string; sample: number; get: ApiGet }): Promise<CompareReport> {
  const oltp = deps.tiers.oltp
  const picked = await sampleMigrated(oltp, o.run.name, o.tenant, o.sample)
  const rows = new Map((await o.reader.byIds(picked.map((p) => p.legacy_id))).map((r) => [r.legacy_id, r]))
  const files = await o.reader.attachments([...rows.keys()])
  const parents = new Map(
    (await findLegacyIds(oltp, o.run.name, [...rows.values()].flatMap((r) => (r.parent_id ? [r.parent_id] : [])))).map((p) => [p.legacy_id, p]),
  )
  const report: CompareReport = { run: o.run.name, compared: 0, expired: 0, differences: [] }
  for (const p of picked) {
    const fields: FieldDifference[] = []
    const row = rows.get(p.legacy_id)
    const api = await readApi(o.get, p.message_id)
    if (!row) fields.push({ field: 'legacy row', legacy: '(gone: deleted since it was migrated; legacy follow removes it)', api: 'present' })
    else if (typeof api === 'string') fields.push({ field: 'message', legacy: 'present', api })
    else {
      const m = transformRow(o.reader.mapping, row, files.get(row.legacy_id) ?? [], o.reader.mapping.tenant_column ? null : o.run.tenant_id)
      const account = 'id' in m.email_account ? m.email_account.id : (await findEmailAccountsByAddress(oltp, o.tenant, [m.email_account.address]))[0]?.id
      const parent = m.parent_legacy_id ? parents.get(m.parent_legacy_id) : undefined
      const want = {
        ...m,
        id: p.message_id,
        email_account_id: account ?? null,
        parent_message_id: parent && parent.tenant_id === m.tenant_id ? parent.message_id : null,
        created: m.created.toISOString(),
      }
      if (api.content === null) report.expired++
      fields.push(...differences(want, m, api))
    }
    report.compared++
    if (fields.length) report.differences.push({ legacy_id: p.legacy_id, message_id: p.message_id, fields })
  }
  return report
}
