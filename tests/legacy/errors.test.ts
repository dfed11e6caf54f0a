/**
 * What goes wrong before anything is written: a bad mapping names its setting, a missing column
 * names the column and the setting, an unreachable source says where, a value the mapping cannot
 * translate names the legacy id and column; every verb has --help. The CLI is run as a process for
 * its exit codes and messages; with DATA_DIR pointing nowhere, it proves it never opened our tiers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { AppError } from '../../src/errors.ts'
import { loadMapping, parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader, openSource } from '../../src/legacy/source.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { rowCounts } from '../support/databases.ts'
import { useSystem } from '../support/system.ts'
import { createSource, createWorld, legacyCli, mappingFile, seedShapeA, SHAPE_A_DDL, SHAPE_A_MAPPING, type Source, type World } from './support.ts'

let src: Source
const files: { path: string; remove(): Promise<void> }[] = []
beforeAll(async () => {
  src = await createSource()
  await src.db.exec(SHAPE_A_DDL)
})
afterAll(async () => {
  for (const f of files) await f.remove()
  await src.drop()
})
const sys = useSystem()
let world: World
beforeAll(async () => {
  world = await createWorld(sys.deps)
  await seedShapeA(src, world, 6)
})

/** The AppError a promise rejects with (or a sync call throws). */
async function failure(fn: () => unknown): Promise<AppError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
  throw new Error('expected a failure')
}

const neverOpened = join(tmpdir(), `edp-legacy-never-${process.pid}`)
const cli = (args: string[]) => legacyCli(args, { DATA_DIR: neverOpened })

describe('mapping errors name the setting', () => {
  test('an unknown setting, a wrong type, two mailbox columns', async () => {
    expect((await failure(() => parseMapping({ colums: {} }))).detail).toContain('"(top level)": Unrecognized key: "colums"')
    expect((await failure(() => parseMapping({ id: { type: 'int' } }))).detail).toContain('setting "id.type"')
    const both = await failure(() => parseMapping({ columns: { email_account_address: 'mailbox' } }))
    expect(both.detail).toContain('setting "columns.email_account_id": name exactly one of')
    expect((await failure(() => parseMapping({ headers_format: 'xml' }))).errors).toEqual([{ field: 'headers_format', message: expect.any(String) }])
  })

  test('a file that is not JSON, or not there', async () => {
    const bad = await mappingFile('{ "table": ')
    files.push(bad)
    expect((await failure(() => loadMapping(bad.path))).detail).toContain(`the mapping file ${bad.path} is not JSON`)
    expect((await failure(() => loadMapping('/nonexistent/mapping.json'))).detail).toContain('cannot read the mapping file /nonexistent/mapping.json')
  })
})

describe('source errors', () => {
  test('unreachable: a closed port, a database that does not exist', async () => {
    const closed = await failure(() => openSource('postgres://postgres@127.0.0.1:1/legacy'))
    expect(closed.code).toBe('service_unavailable')
    expect(closed.detail).toContain('cannot reach the legacy source postgres://postgres@127.0.0.1:1/legacy')
    const missing = await failure(() => openSource(src.url.replace(/\/[^/]+$/, '/edp_no_such_database')))
    expect(missing.detail).toContain('edp_no_such_database')
  })

  test('a missing table, a missing column, an id of another type: each names the column and the setting', async () => {
    const noTable = await failure(() => checkMapping(src.db, parseMapping({ table: 'emails' })))
    expect(noTable.detail).toBe('the legacy source has no table emails (mapping setting table)')
    const noColumn = await failure(() => checkMapping(src.db, parseMapping({ ...SHAPE_A_MAPPING, columns: { subject: 'title' } })))
    expect(noColumn.detail).toBe('the legacy table legacy.emails has no column "title" (mapping setting columns.subject)')
    const noAttachmentColumn = await failure(() =>
      checkMapping(src.db, parseMapping({ ...SHAPE_A_MAPPING, attachments: { ...SHAPE_A_MAPPING.attachments, content: 'bytes' } })),
    )
    expect(noAttachmentColumn.detail).toBe('the legacy table legacy.email_attachments has no column "bytes" (mapping setting attachments.content)')
    const wrongId = await failure(() => checkMapping(src.db, parseMapping({ ...SHAPE_A_MAPPING, id: { type: 'bigint' } })))
    expect(wrongId.detail).toContain('mapping setting id.type says bigint')
  })
})

describe('rows that cannot map: clear error, nothing written', () => {
  async function attempt(mapping: ReturnType<typeof parseMapping>, tenant: string | null = null) {
    const reader = new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping))
    return failure(() => migrateLegacy(sys.deps, { reader, run: 'errors', source: 'test', tenant, batchSize: 4, rate: 0 }))
  }

  test('a value outside the vocabulary, a mailbox that does not exist, a single-tenant source without --tenant', async () => {
    const before = await rowCounts(sys)
    const [row] = await src.db.query<{ id: string }>(`UPDATE legacy.emails SET direction = 'sideways' WHERE id = (SELECT id FROM legacy.emails ORDER BY id LIMIT 1) RETURNING id::text`)
    try {
      const vocabulary = await attempt(parseMapping(SHAPE_A_MAPPING))
      expect(vocabulary.detail).toBe(
        `legacy row ${row!.id}: column "direction" (mapping setting columns.direction) has "sideways", which mapping setting values.direction does not map`,
      )
    } finally {
      await src.db.query(`UPDATE legacy.emails SET direction = 'outbound' WHERE id = $1`, [row!.id])
    }
    const unknownMailbox = await attempt(parseMapping({ ...SHAPE_A_MAPPING, columns: { email_account_id: null, email_account_address: 'to_email' } }))
    expect(unknownMailbox.detail).toMatch(/^legacy row [0-9a-f-]+: tenant [0-9a-f-]+ has no mailbox jane@example.com; create it first$/)
    const noTenant = await attempt(parseMapping({ ...SHAPE_A_MAPPING, tenant_column: null }))
    expect(noTenant.detail).toContain('name the tenant with --tenant')
    // A bad row stops its batch before the batch writes anything (earlier batches would stay, and a
    // re-run after the fix continues from them); here every bad row was in the first batch.
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('a reference the tiers do not have (a campaign) names the row and the column; no ref or checkpoint is written', async () => {
    const oltpCounts = async () => Object.fromEntries(Object.entries(await rowCounts(sys)).filter(([t]) => t.startsWith('oltp.')))
    const before = await oltpCounts()
    // The third row of the first batch: the refs go in one statement, so naming it takes more than the first row.
    const [row] = await src.db.query<{ id: string; campaign_id: string | null }>(
      `UPDATE legacy.emails e SET campaign_id = gen_random_uuid() FROM legacy.emails o
        WHERE e.id = (SELECT id FROM legacy.emails ORDER BY id OFFSET 2 LIMIT 1) AND o.id = e.id
        RETURNING e.id::text, o.campaign_id::text`,
    )
    try {
      const refused = await attempt(parseMapping(SHAPE_A_MAPPING))
      expect(refused.code).toBe('validation_failed')
      expect(refused.errors?.map((e) => e.field)).toEqual(['columns.campaign_id'])
      expect(refused.detail).toStartWith(`legacy row ${row!.id}: campaign_id `)
      expect(refused.detail).toContain('does not exist for tenant')
    } finally {
      await src.db.query(`UPDATE legacy.emails SET campaign_id = $2 WHERE id = $1`, [row!.id, row!.campaign_id])
    }
    // The batch's content committed first (the write order) and is left for the orphan collector.
    expect(await oltpCounts()).toEqual(before)
  })
})

describe('the CLI', () => {
  test('--help on every verb', async () => {
    for (const verb of ['plan', 'migrate', 'verify', 'rollback']) {
      const r = await cli([verb, '--help'])
      expect({ verb, code: r.code }).toEqual({ verb, code: 0 })
      expect(r.stdout).toContain(`usage: npm run legacy -- ${verb}`)
    }
    const none = await cli([])
    expect(none.stderr).toContain('plan       inspect the legacy table')
  })

  test('exit codes and messages; our tiers are never opened', async () => {
    const mapping = await mappingFile(SHAPE_A_MAPPING)
    files.push(mapping)
    const unreachable = await cli(['migrate', '--source', 'postgres://postgres@127.0.0.1:1/legacy', '--mapping', mapping.path])
    expect(unreachable.code).toBe(3)
    expect(unreachable.stderr).toContain('legacy: cannot reach the legacy source postgres://postgres@127.0.0.1:1/legacy')
    const badMapping = await mappingFile({ table: 'legacy.emails', id: { column: 7 } })
    files.push(badMapping)
    const bad = await cli(['plan', '--source', src.url, '--mapping', badMapping.path])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(`legacy: mapping file ${badMapping.path} setting "id.column"`)
    const missing = await cli(['migrate', '--source', src.url, '--mapping', mapping.path, '--table', 'legacy.nope'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('the legacy source has no table legacy.nope (mapping setting table)')
    const usage = await cli(['migrate', '--source', src.url, '--batch', 'many'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--batch must be an integer')
    expect(existsSync(neverOpened)).toBe(false)
  }, 60_000)
})
