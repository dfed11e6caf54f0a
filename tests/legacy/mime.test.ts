/**
 * A third legacy shape: the whole message in one raw MIME column (bytea), parsed with the inbound
 * parser. Text, html, headers, an inline image and an attached file come from the message, and
 * from, to, subject and Message-ID too (the mapping names no column for them); verify compares
 * through the same parse and names a changed part; a message the parser cannot read and a
 * mapping that names body columns beside raw_mime are clear errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { legacyRun, verifyLegacy } from '../../src/services/legacy/verify.ts'
import { getMessage } from '../../src/services/messages.ts'
import { useSystem } from '../support/system.ts'
import { createSource, createWorld, type Source, type World } from './support.ts'

let src: Source
let world: World

beforeAll(async () => {
  src = await createSource()
  await src.db.exec(`CREATE TABLE mime_store (id bigint PRIMARY KEY, mailbox text NOT NULL, direction text NOT NULL, sent timestamptz NOT NULL, raw bytea)`)
})
afterAll(() => src.drop())
const sys = useSystem()

const MAPPING = {
  table: 'mime_store',
  id: { column: 'id', type: 'bigint' },
  tenant_column: null,
  columns: {
    email_account_id: null,
    email_account_address: 'mailbox',
    campaign_id: null,
    sequence_step_id: null,
    lead_id: null,
    parent_id: null,
    direction: 'direction',
    message_type: null,
    from_email: null,
    to_email: null,
    subject: null,
    status: null,
    rfc822_message_id: null,
    created: 'sent',
    content_text: null,
    content_html: null,
    headers: null,
    raw_mime: 'raw',
  },
}
const mapping = parseMapping(MAPPING)
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')

const mime = (k: number, address: string) =>
  [
    `From: Jane <jane@example.com>`,
    `To: ${address}`,
    `Subject: invoice ${k}`,
    `Message-ID: <mime-${k}@legacy.test>`,
    `Date: Tue, 01 Sep 2026 10:00:00 +0000`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/mixed; boundary="outer"`,
    ``,
    `--outer`,
    `Content-Type: multipart/related; boundary="rel"`,
    ``,
    `--rel`,
    `Content-Type: multipart/alternative; boundary="alt"`,
    ``,
    `--alt`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    `Plain body ${k}.`,
    `--alt`,
    `Content-Type: text/html; charset=utf-8`,
    ``,
    `<p>Html body ${k} <img src="cid:logo@x"></p>`,
    `--alt--`,
    `--rel`,
    `Content-Type: image/png`,
    `Content-ID: <logo@x>`,
    `Content-Disposition: inline; filename="logo.png"`,
    `Content-Transfer-Encoding: base64`,
    ``,
    PNG.toString('base64'),
    `--rel--`,
    `--outer`,
    `Content-Type: application/pdf; name="invoice-${k}.pdf"`,
    `Content-Disposition: attachment; filename="invoice-${k}.pdf"`,
    `Content-Transfer-Encoding: base64`,
    ``,
    Buffer.from(`%PDF invoice ${k}`).toString('base64'),
    `--outer--`,
    ``,
  ].join('\r\n')

const reader = async () => new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping))

describe('a raw MIME column', () => {
  test('parsed with the inbound parser: body, headers, inline and attached parts, envelope; verify names a changed part', async () => {
    world = await createWorld(sys.deps, 'mime')
    for (let k = 1; k <= 5; k++) {
      await src.db.query(`INSERT INTO mime_store VALUES ($1, $2, 'inbound', $3, $4)`, [k, world.address, new Date(Date.now() - k * 86_400_000), new TextEncoder().encode(mime(k, world.address))])
    }
    const summary = await migrateLegacy(sys.deps, { reader: await reader(), run: 'mime', source: 'test', tenant: world.tenant, batchSize: 2, rate: 0 })
    expect(summary.rows).toBe(5)
    const [ref] = await sys.tiers.oltp.query<{ id: string }>(`SELECT message_id AS id FROM oltp.legacy_ids WHERE run = 'mime' AND legacy_id = '3'`)
    const m = await getMessage(sys.deps, world.tenant, ref!.id)
    expect(m).toMatchObject({ from_email: 'jane@example.com', to_email: world.address, subject: 'invoice 3', rfc822_message_id: '<mime-3@legacy.test>', direction: 'inbound' })
    expect(m.content!.content_text!.trim()).toBe('Plain body 3.')
    expect(m.content!.content_html).toContain('<p>Html body 3 <img src="cid:logo@x"></p>')
    expect(m.content!.headers).toContainEqual({ name: 'Subject', value: 'invoice 3' })
    expect(m.attachments.map((a) => [a.filename, a.mime_type, a.storage_disposition, a.size_bytes]).sort()).toEqual([
      ['invoice-3.pdf', 'application/pdf', 'attachment', '%PDF invoice 3'.length],
      ['logo.png', 'image/png', 'inline', PNG.length],
    ])
    expect((await verifyLegacy(sys.deps, { reader: await reader(), run: await legacyRun(sys.deps, 'mime') })).mismatches).toBe(0)

    // The legacy message changes: verify parses it again and names the html part.
    await src.db.query(`UPDATE mime_store SET raw = convert_to(replace(convert_from(raw, 'UTF8'), 'Html body 2', 'Html body 2!'), 'UTF8') WHERE id = 2`)
    const report = await verifyLegacy(sys.deps, { reader: await reader(), run: await legacyRun(sys.deps, 'mime') })
    expect(report.batches.flatMap((b) => b.mismatches)).toEqual([{ legacy_id: '2', fields: ['content_html'] }])
    await rollbackLegacy(sys.deps)
  }, 60_000)

  test('a mapping naming body columns beside raw_mime, or neither raw_mime nor from_email, is refused naming the setting', () => {
    expect(() => parseMapping({ ...MAPPING, columns: { ...MAPPING.columns, content_text: 'body' } })).toThrow('mapping setting "columns.raw_mime": with raw_mime, the body and headers come from the message')
    expect(() => parseMapping({ ...MAPPING, columns: { ...MAPPING.columns, raw_mime: null } })).toThrow('mapping setting "columns.from_email": from_email and to_email need a column')
  })
})
