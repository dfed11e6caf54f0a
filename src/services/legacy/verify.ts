/**
 * `legacy verify`: for each batch (or a random sample of rows), every legacy row is reduced to
 * the message it should have become, our stored message to the same form, and the two compared:
 * a checksum over the metadata columns and the sha256 of text, html, headers and attachments.
 * Mismatches are listed by legacy id with the columns and parts that differ.
 */
import type { Deps } from '../../deps.ts'
import { AppError, invalid, notFound } from '../../errors.ts'
import { sha256Hex } from '../../ids.ts'
import { batchChecksum, differences, digestOf, type MessageSnapshot } from '../../legacy/digest.ts'
import type { LegacyReader, LegacyRow } from '../../legacy/source.ts'
import { transformRow, type MigratedMessage } from '../../legacy/transform.ts'
import { messageKey } from '../../storage-keys.ts'
import { attachmentDigests } from '../../tiers/content/attachments.ts'
import { unpackBody } from '../../tiers/content/codec.ts'
import { getContentObjects } from '../../tiers/content/objects.ts'
import { openBytes, openStored } from '../content-seal.ts'
import { findEmailAccountsByAddress } from '../../tiers/oltp/email-accounts.ts'
import { findLegacyIds, getLegacyRun, listLegacyBatches, listLegacyRuns, type LegacyRun } from '../../tiers/oltp/legacy.ts'
import { getMessageRefs, type MessageRefRow } from '../../tiers/oltp/messages.ts'

export interface Mismatch {
  legacy_id: string
  /** What differs: column names, content parts, or `missing` / `unmappable: …`. */
  fields: string[]
}

export interface BatchReport {
  /** null for sampled rows the id map does not know (missing). */
  batch: number | null
  rows: number
  legacy_checksum: string
  our_checksum: string
  mismatches: Mismatch[]
}

export interface VerifyReport {
  run: string
  checked: number
  batches: BatchReport[]
  mismatches: number
  /** Rows past the last checkpoint: not migrated yet, not a mismatch. */
  not_migrated: number
}

/** The run to verify: the one named, or the only one there is; anything else is a clear error. */
export async function legacyRun(deps: Deps, name?: string): Promise<LegacyRun> {
  if (name) {
    const run = await getLegacyRun(deps.tiers.oltp, name)
    if (!run) throw notFound(`migration run ${name}`, 'run')
    return run
  }
  const runs = await listLegacyRuns(deps.tiers.oltp)
  if (runs.length === 1) return runs[0]!
  if (runs.length === 0) throw new AppError('not_found', 'no migration run exists yet: run migrate first')
  throw invalid(`several migration runs exist; name one with --run: ${runs.map((r) => r.name).join(', ')}`, 'run', 'ambiguous')
}

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null)

/** Our side of one tenant's messages, by message id. */
async function stored(deps: Deps, tenantId: string, ids: string[]) {
  const refs = new Map((await getMessageRefs(deps.tiers.oltp, tenantId, ids)).map((r) => [r.id, r]))
  const keys = [...refs.values()].map((r) => r.content_storage_key)
  // Opened (decrypted) here, so what is compared is what a read would return.
  const rows = await getContentObjects(deps.tiers.content, tenantId, keys)
  const bodies = new Map(await Promise.all(rows.map(async (c) => [c.storage_key, await openStored(deps.contentKeys, tenantId, c)] as const)))
  const digests = await Promise.all(
    (await attachmentDigests(deps.tiers.content, tenantId, keys)).map(async ({ content, key_id, nonce, sealed_as, ...f }) => {
      const bytes = await openBytes(deps, tenantId, { content, key_id, nonce, sealed_as })
      return { ...f, sha256: bytes ? sha256Hex(bytes) : null }
    }),
  )
  const files = Map.groupBy(digests, (a) => a.parent_storage_key)
  return (id: string): MessageSnapshot | 'missing' | 'content missing' => {
    const ref: MessageRefRow | undefined = refs.get(id)
    if (!ref) return 'missing'
    const body = bodies.get(ref.content_storage_key)
    if (!body) return 'content missing'
    const expired = body.content_state === 'expired'
    return {
      meta: { ...ref, created: isoOrNull(ref.created) },
      ...(expired ? { content_text: null, content_html: null } : unpackBody(body)),
      headers: body.headers,
      attachments: (files.get(ref.content_storage_key) ?? []).map(({ parent_storage_key: _, ...f }) => f),
      expired,
    }
  }
}

async function compareRows(deps: Deps, reader: LegacyReader, run: LegacyRun, rows: LegacyRow[]): Promise<Omit<BatchReport, 'batch'>> {
  const files = await reader.attachments(rows.map((r) => r.legacy_id))
  const tenantOverride = reader.mapping.tenant_column ? null : run.tenant_id
  const mismatches: Mismatch[] = []
  const expected: { row: LegacyRow; m: MigratedMessage }[] = []
  for (const row of rows) {
    try {
      expected.push({ row, m: transformRow(reader.mapping, row, files.get(row.legacy_id) ?? [], tenantOverride) })
    } catch (err) {
      mismatches.push({ legacy_id: row.legacy_id, fields: [`unmappable: ${(err as Error).message}`] })
    }
  }
  const parents = expected.flatMap(({ m }) => (m.parent_legacy_id ? [m.parent_legacy_id] : []))
  const map = new Map((await findLegacyIds(deps.tiers.oltp, run.name, [...rows.map((r) => r.legacy_id), ...parents])).map((r) => [r.legacy_id, r]))
  const legacyDigests: string[] = []
  const ourDigests: string[] = []
  for (const [tenantId, list] of Map.groupBy(expected, ({ m }) => m.tenant_id)) {
    const ours = await stored(deps, tenantId, list.map(({ m }) => map.get(m.legacy_id)?.message_id ?? m.id))
    const addresses = list.flatMap(({ m }) => ('address' in m.email_account ? [m.email_account.address] : []))
    const mailboxes = new Map((await findEmailAccountsByAddress(deps.tiers.oltp, tenantId, [...new Set(addresses)])).map((a) => [a.email_address.toLowerCase(), a.id]))
    for (const { m } of list) {
      const actual = ours(map.get(m.legacy_id)?.message_id ?? m.id)
      if (typeof actual === 'string') {
        mismatches.push({ legacy_id: m.legacy_id, fields: [actual] })
        continue
      }
      const parent = m.parent_legacy_id ? map.get(m.parent_legacy_id) : undefined
      const want: MessageSnapshot = {
        meta: {
          ...m,
          email_account_id: 'id' in m.email_account ? m.email_account.id : (mailboxes.get(m.email_account.address.toLowerCase()) ?? null),
          parent_message_id: parent && parent.tenant_id === m.tenant_id ? parent.message_id : null,
          created: m.created.toISOString(),
        },
        content_text: m.content_text,
        content_html: m.content_html,
        headers: m.headers,
        attachments: m.attachments.map((a) => ({
          filename: a.filename,
          mime_type: a.mime_type,
          storage_disposition: a.storage_disposition,
          sha256: sha256Hex(a.bytes),
        })),
        // Content expired by policy is gone by design: only its metadata is compared.
        expired: actual.expired,
      }
      legacyDigests.push(digestOf(want).all)
      ourDigests.push(digestOf(actual).all)
      const fields = differences(want, actual)
      if (fields.length) mismatches.push({ legacy_id: m.legacy_id, fields })
    }
  }
  return { rows: rows.length, legacy_checksum: batchChecksum(legacyDigests), our_checksum: batchChecksum(ourDigests), mismatches }
}

export async function verifyLegacy(deps: Deps, o: { reader: LegacyReader; run: LegacyRun; sample?: number }): Promise<VerifyReport> {
  const batches = await listLegacyBatches(deps.tiers.oltp, o.run.name)
  const reports: BatchReport[] = []
  const last = batches.at(-1)
  if (last && o.sample === undefined) {
    let after: string | null = null
    for (const b of batches) {
      reports.push({ batch: b.batch_no, ...(await compareRows(deps, o.reader, o.run, await o.reader.range(after, b.last_key))) })
      after = b.last_key
    }
  } else if (last) {
    const rows = await o.reader.byIds(await o.reader.sampleIds(o.sample!, last.last_key))
    const batchOf = new Map((await findLegacyIds(deps.tiers.oltp, o.run.name, rows.map((r) => r.legacy_id))).map((r) => [r.legacy_id, r.batch_no]))
    for (const [batch, list] of Map.groupBy(rows, (r) => batchOf.get(r.legacy_id) ?? null)) {
      reports.push({ batch, ...(await compareRows(deps, o.reader, o.run, list)) })
    }
    reports.sort((a, b) => (a.batch ?? -1) - (b.batch ?? -1))
  }
  return {
    run: o.run.name,
    checked: reports.reduce((n, r) => n + r.rows, 0),
    batches: reports,
    mismatches: reports.reduce((n, r) => n + r.mismatches.length, 0),
    not_migrated: await o.reader.countAfter(last?.last_key ?? null),
  }
}
