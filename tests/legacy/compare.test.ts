/**
 * `legacy compare`: the shadow read through the real HTTP app (app.request with the tenant's key)
 * against the legacy table. Clean after a migration; a changed legacy subject, a changed legacy
 * attachment, and an attachment gone on our side behind the API's back are each named by field.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { createApiKey } from '../../src/services/api-keys.ts'
import { compareLegacy } from '../../src/services/legacy/compare.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { legacyRun } from '../../src/services/legacy/verify.ts'
import { SCOPES } from '../../src/scopes.ts'
import { messageKey } from '../../src/storage-keys.ts'
import { useShapeA } from './support.ts'

let key: string
const N = 10

const fx = useShapeA(N)
const { sys, mapping } = fx
beforeAll(async () => {
  key = (await createApiKey(sys.deps, fx.world.tenant, { name: 'compare', scopes: [...SCOPES] })).key
})


async function compare() {
  const reader = new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
  const get = async (path: string) => sys.app.request(path, { headers: { authorization: `Bearer ${key}` } })
  return compareLegacy(sys.deps, { reader, run: await legacyRun(sys.deps, 'c'), tenant: fx.world.tenant, sample: N, get })
}

describe('legacy compare', () => {
  test('reads through the API and the legacy table; names each field that differs, on either side', async () => {
    const reader = new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
    await migrateLegacy(sys.deps, { reader, run: 'c', source: 'test', tenant: null, batchSize: 4, rate: 0 })
    const clean = await compare()
    expect(clean).toMatchObject({ run: 'c', compared: N, expired: 0, differences: [] })

    // The legacy side changes: a subject, and one byte of an attachment (row 5 has one).
    await fx.src.db.query(`UPDATE legacy.emails SET subject = 'changed in legacy' WHERE id = $1`, [fx.ids[1]])
    await fx.src.db.query(`UPDATE legacy.email_attachments SET content = '\\x66696c6521' WHERE email_id = $1`, [fx.ids[5]])
    // Our side changes behind the API: an attachment row gone from the content tier (row 0 has one).
    await sys.tiers.content.query(`DELETE FROM content.attachments WHERE tenant_id = $1 AND parent_storage_key = $2`, [fx.world.tenant, messageKey(fx.world.tenant, fx.ids[0]!)])

    const report = await compare()
    expect(report.compared).toBe(N)
    const byId = new Map(report.differences.map((d) => [d.legacy_id, d.fields]))
    expect([...byId.keys()].sort()).toEqual([fx.ids[0]!, fx.ids[1]!, fx.ids[5]!].sort())
    expect(byId.get(fx.ids[1]!)).toEqual([{ field: 'subject', legacy: '"changed in legacy"', api: '"hello 1"' }])
    expect(byId.get(fx.ids[5]!)!.map((f) => f.field)).toEqual(['attachments'])
    expect(byId.get(fx.ids[0]!)).toEqual([{ field: 'attachments', legacy: expect.stringContaining('scan-0.pdf'), api: '[]' }])
  }, 120_000)
})
