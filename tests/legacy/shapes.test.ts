/**
 * Two legacy shapes through two mapping files, side by side in one legacy database: the
 * benchmark's (uuid ids kept, tenant column, JSON headers, attachments in a side table) and a
 * single-tenant archive (bigint ids mapped to deterministic time-ordered ids, renamed columns,
 * mailboxes by address, raw header text, its own vocabularies, a reply stored before its parent).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadMapping, parseMapping, type Mapping } from '../../src/legacy/mapping.ts'
import { messageIdFor } from '../../src/legacy/ids.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { planLegacy } from '../../src/services/legacy/plan.ts'
import { legacyRun, verifyLegacy } from '../../src/services/legacy/verify.ts'
import { getMessage, getMessageAttachment } from '../../src/services/messages.ts'
import { rowCounts } from '../support/databases.ts'
import { useSystem } from '../support/system.ts'
import {
  archiveFiles,
  createSource,
  createWorld,
  mappingFile,
  seedShapeA,
  seedShapeB,
  SHAPE_A_DDL,
  SHAPE_A_MAPPING,
  SHAPE_B_DDL,
  SHAPE_B_MAPPING,
  type Source,
  type World,
} from './support.ts'

let src: Source
const files: { path: string; remove(): Promise<void> }[] = []
beforeAll(async () => {
  src = await createSource()
  await src.db.exec(SHAPE_A_DDL + SHAPE_B_DDL)
})
afterAll(async () => {
  for (const f of files) await f.remove()
  await src.drop()
})
const sys = useSystem()

let a: World
let b: World
let mappingA: Mapping
let mappingB: Mapping
beforeAll(async () => {
  a = await createWorld(sys.deps, 'shape-a')
  b = await createWorld(sys.deps, 'shape-b')
  await seedShapeA(src, a, 9)
  await seedShapeB(src, b.address, 10)
  // A reply stored before its parent (a lower number, an earlier batch), and one whose parent never existed.
  await src.db.exec(`
    INSERT INTO mail_archive (msg_no, mailbox, dir, kind, sender, recipient, title, msgid, sent_at, body_plain, raw_headers, reply_to)
    VALUES (2000, '${b.address}', 'in', 'normal', 'bob@example.com', '${b.address}', 'Re: late parent', '<late-child@x>', now() - interval '1 day', 'child', 'X-A: 1', 2005),
           (2005, '${b.address}', 'out', 'normal', '${b.address}', 'bob@example.com', 'late parent', '<late-parent@x>', now() - interval '2 days', 'parent', NULL, NULL),
           (2002, '${b.address}', 'in', 'normal', 'bob@example.com', '${b.address}', 'Re: gone', '<orphan@x>', now() - interval '1 day', 'orphan', NULL, 999999)`)
  for (const m of [SHAPE_A_MAPPING, SHAPE_B_MAPPING]) files.push(await mappingFile(m))
  mappingA = await loadMapping(files[0]!.path)
  mappingB = await loadMapping(files[1]!.path)
})

async function run(mapping: Mapping, name: string, tenant: string | null) {
  const reader = new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping), mapping.tenant_column ? tenant : null)
  const summary = await migrateLegacy(sys.deps, { reader, run: name, source: 'test', tenant, batchSize: 4, rate: 0 })
  const report = await verifyLegacy(sys.deps, { reader, run: await legacyRun(sys.deps, name) })
  return { summary, report }
}

describe('two legacy shapes', () => {
  test('plan of the archive shape: the mapping, counts, the column it does not read, vocabularies; writes nothing', async () => {
    const before = await rowCounts(sys)
    const info = await checkMapping(src.db, mappingB)
    const plan = await planLegacy(sys.deps, { reader: new LegacyReader(src.db, mappingB, info), info, run: 'b', tenant: b.tenant, rate: 100 })
    expect(plan.rows).toBe(13)
    expect(plan.unmapped_columns).toEqual(['notes'])
    expect(plan.columns).toContainEqual(['columns.email_account_address', 'mailbox'])
    expect(plan.vocabularies).toContainEqual({ setting: 'columns.direction', value: 'in', rows: 5, becomes: 'inbound' })
    expect(plan.vocabularies).toContainEqual({ setting: 'columns.message_type', value: 'ooo', rows: 3, becomes: 'auto_reply' })
    expect(plan.unknown_mailboxes).toEqual([])
    expect(plan.unknown_tenants).toEqual([])
    expect(plan.estimated_seconds).toBe(1)
    expect(plan.checkpoint).toBeNull()
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('the benchmark shape: uuid ids kept, tenant column, attachments; verify clean', async () => {
    const { summary, report } = await run(mappingA, 'shape-a', null)
    expect(summary).toMatchObject({ rows: 9, batches: 3 })
    expect(report).toMatchObject({ checked: 9, mismatches: 0, not_migrated: 0 })
  })

  test('the archive shape: bigint ids become deterministic, date-ordered ids; raw headers, vocabularies, late parents', async () => {
    const { summary, report } = await run(mappingB, 'shape-b', b.tenant)
    expect(summary).toMatchObject({ rows: 13, batches: 4 })
    expect(report).toMatchObject({ checked: 13, mismatches: 0 })

    const [row] = await src.db.query<{ sent_at: Date }>(`SELECT sent_at FROM mail_archive WHERE msg_no = 1003`)
    const id = messageIdFor('bigint', 'mail_archive', '1003', row!.sent_at)
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const m = await getMessage(sys.deps, b.tenant, id)
    expect(m).toMatchObject({ direction: 'inbound', message_type: 'auto_reply', status: 'received', email_account_id: b.account })
    expect(m.parent_message_id).toBe(messageIdFor('bigint', 'mail_archive', '1002', (await src.db.query<{ sent_at: Date }>(`SELECT sent_at FROM mail_archive WHERE msg_no = 1002`))[0]!.sent_at))
    expect(m.content!.headers).toEqual([
      { name: 'Message-ID', value: '<b3@archive.test>' },
      { name: 'Subject', value: 'archived 3' },
      { name: 'Received', value: 'from a by b' },
    ])
    // Time-ordered: listing newest first by id is listing by the original date.
    const refs = await sys.tiers.oltp.query<{ id: string; created: Date }>(`SELECT id, created FROM oltp.inbox_message_refs WHERE tenant_id = $1 ORDER BY id`, [b.tenant])
    expect(refs.map((r) => r.created.getTime())).toEqual(refs.map((r) => r.created.getTime()).sort((x, y) => x - y))

    // The child migrated in an earlier batch than its parent got its link when the parent landed.
    const byTitle = async (title: string) =>
      (await sys.tiers.oltp.query<{ id: string; parent_message_id: string | null }>(
        `SELECT id, parent_message_id FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND subject = $2`,
        [b.tenant, title],
      ))[0]!
    expect((await byTitle('Re: late parent')).parent_message_id).toBe((await byTitle('late parent')).id)
    // A parent that never existed leaves the reply unthreaded, still waiting in the id map.
    expect((await byTitle('Re: gone')).parent_message_id).toBeNull()
    const [pending] = await sys.tiers.oltp.query<{ parent_legacy_id: string }>(`SELECT parent_legacy_id FROM oltp.legacy_ids WHERE run = 'shape-b' AND legacy_id = '2002'`)
    expect(pending!.parent_legacy_id).toBe('999999')

    // Files inline in a JSON column arrive as attachments, in order, with their dispositions and bytes.
    const idOf = async (no: number) =>
      messageIdFor('bigint', 'mail_archive', String(no), (await src.db.query<{ sent_at: Date }>(`SELECT sent_at FROM mail_archive WHERE msg_no = $1`, [no]))[0]!.sent_at)
    const four = await getMessage(sys.deps, b.tenant, await idOf(1004))
    const expected = archiveFiles(4)
    expect(four.attachments.map((f) => [f.filename, f.mime_type, f.storage_disposition, f.size_bytes])).toEqual(
      expected.map((f) => [f.name, f.type, f.disposition ?? 'attachment', Buffer.from(f.data, 'base64').length]),
    )
    for (const [i, f] of four.attachments.entries()) {
      const file = await getMessageAttachment(sys.deps, b.tenant, four.id, f.id)
      expect(Buffer.from(file.content).equals(Buffer.from(expected[i]!.data, 'base64'))).toBe(true)
    }
    expect((await getMessage(sys.deps, b.tenant, await idOf(1003))).attachments).toEqual([])

    // One byte of one inline file changed in the legacy row: verify names the row and the part.
    const original = (await src.db.query<{ files: string }>(`SELECT files::text AS files FROM mail_archive WHERE msg_no = 1004`))[0]!.files
    const tampered = archiveFiles(4)
    tampered[0]!.data = Buffer.from(Buffer.from(tampered[0]!.data, 'base64').map((byte, i) => (i === 9 ? byte ^ 1 : byte))).toString('base64')
    await src.db.query(`UPDATE mail_archive SET files = $1::jsonb WHERE msg_no = 1004`, [JSON.stringify(tampered)])
    try {
      const reader = new LegacyReader(src.db, mappingB, await checkMapping(src.db, mappingB))
      const flipped = await verifyLegacy(sys.deps, { reader, run: await legacyRun(sys.deps, 'shape-b') })
      expect(flipped.batches.flatMap((x) => x.mismatches)).toEqual([{ legacy_id: '1004', fields: ['attachments'] }])
    } finally {
      await src.db.query(`UPDATE mail_archive SET files = $1::jsonb WHERE msg_no = 1004`, [original])
    }
  })

  test('an inline attachments value that is not a list of files stops the run, naming the row; nothing written', async () => {
    const c = await createWorld(sys.deps, 'shape-b-bad')
    await src.db.exec(`CREATE TABLE mail_archive_bad (LIKE mail_archive INCLUDING ALL)`)
    try {
      await src.db.query(
        `INSERT INTO mail_archive_bad (msg_no, mailbox, dir, kind, sender, recipient, title, sent_at, body_plain, files)
         VALUES (1, $1, 'out', 'normal', $1, 'x@example.com', 'fine', now(), 'a', '[]'),
                (2, $1, 'out', 'normal', $1, 'x@example.com', 'broken', now(), 'b', '[{"name": "a.pdf", "type": "application/pdf", "data": "not base64!"}]')`,
        [c.address],
      )
      const mapping = await loadMapping((files[files.push(await mappingFile({ ...SHAPE_B_MAPPING, table: 'mail_archive_bad' })) - 1]!).path)
      const before = await rowCounts(sys)
      const reader = new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping))
      await expect(migrateLegacy(sys.deps, { reader, run: 'shape-b-bad', source: 'test', tenant: c.tenant, batchSize: 10, rate: 0 })).rejects.toThrow(
        'legacy row 2: file 0: "data" is not base64 (mapping setting inline_attachments)',
      )
      expect(await rowCounts(sys)).toEqual(before)
    } finally {
      await src.db.exec(`DROP TABLE mail_archive_bad`)
    }
  })

  test('inline attachments with a side table or with raw MIME is a mapping error naming the setting', () => {
    expect(() => parseMapping({ ...SHAPE_A_MAPPING, inline_attachments: { column: 'files' } })).toThrow('setting "inline_attachments": attachments come from a side table')
    expect(() =>
      parseMapping({ ...SHAPE_B_MAPPING, columns: { ...SHAPE_B_MAPPING.columns, raw_mime: 'body_plain', content_text: null, content_html: null, headers: null } }),
    ).toThrow('setting "inline_attachments": with raw_mime')
  })
})
