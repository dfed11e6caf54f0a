/**
 * The operator's walkthrough through the real CLI, as the README gives it: migrate, follow with
 * --install-capture while the legacy application writes, status, verify, compare (exit 1 on a
 * difference, named), finalize. Each verb is its own process, on PGlite under a DATA_DIR
 * (embedded mode) or on the four PostgreSQL test databases (server mode).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { createApiKey } from '../../src/services/api-keys.ts'
import { SCOPES } from '../../src/scopes.ts'
import { engine, migratedSnapshot } from '../support/databases.ts'
import { makeDeps, tierUrlEnv, useSystem } from '../support/system.ts'
import { createSource, createWorld, legacyCli, mappingFile, seedShapeA, SHAPE_A_DDL, SHAPE_A_MAPPING, type Source, type World } from './support.ts'

const N = 20

let src: Source
let mapping: { path: string; remove(): Promise<void> }
let dataDir: string | undefined
beforeAll(async () => {
  src = await createSource()
  await src.db.exec(SHAPE_A_DDL)
  mapping = await mappingFile(SHAPE_A_MAPPING)
})
afterAll(async () => {
  await mapping.remove()
  await src.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})
const sys = useSystem()

/** Our tiers as the CLI processes see them, opened here only while none runs (PGlite is one process's database). */
async function withTiers<T>(fn: (tiers: Tiers) => Promise<T>): Promise<T> {
  if (engine === 'postgres') return fn(sys.tiers)
  const first = !dataDir
  dataDir ??= await mkdtemp(join(tmpdir(), 'edp-legacy-cli-'))
  const pg = await openPglite({ dataDir: join(dataDir, 'pglite'), loadDataDir: first ? await migratedSnapshot() : undefined })
  const db = pgliteDb(pg, 'pglite:cli')
  const tiers = tiersFrom({ oltp: db, content: db, analytics: db, queue: db })
  try {
    return await fn(tiers)
  } finally {
    await tiers.close()
  }
}

let world: World
let key: string
let ids: string[]
let env: Record<string, string>
beforeAll(async () => {
  ;({ world, key } = await withTiers(async (tiers) => {
    const deps = makeDeps(tiers)
    const w = await createWorld(deps, 'cli')
    return { world: w, key: (await createApiKey(deps, w.tenant, { name: 'compare', scopes: [...SCOPES] })).key }
  }))
  ids = await seedShapeA(src, world, N)
  env = { ...(engine === 'postgres' ? await tierUrlEnv() : { DATA_DIR: dataDir! }), LEGACY_SOURCE_URL: src.url }
})

describe('the legacy CLI walkthrough', () => {
  test('migrate → follow → status → verify → compare → finalize', async () => {
    const cli = (...args: string[]) => legacyCli(args, env)

    const migrate = await cli('migrate', '--mapping', mapping.path, '--batch', '6', '--rate', '0')
    expect(migrate.stdout).toContain(`run total: ${N} messages in 4 batches`)
    expect(migrate.code).toBe(0)

    // The application keeps writing: an edit to a migrated row, before the capture exists, is what verify (not follow) sees.
    await src.db.query(`UPDATE legacy.emails SET subject = 'edited early' WHERE id = $1`, [ids[0]])
    const stale = await cli('verify', '--all')
    expect(stale.code).toBe(1)
    expect(stale.stdout).toContain(`legacy id ${ids[0]}: subject`)

    // follow installs the capture; the edit above is not captured, so touch it again, and edit another.
    const install = await cli('follow', '--mapping', mapping.path, '--install-capture', '--once', '--rate', '0')
    expect(install.stdout).toContain('capture installed: table legacy.edp_capture_emails, trigger edp_capture on legacy.emails and legacy.email_attachments')
    await src.db.query(`UPDATE legacy.emails SET updated = now() WHERE id = $1`, [ids[0]])
    await src.db.query(`UPDATE legacy.emails SET status = 'bounced' WHERE id = $1`, [ids[4]])
    const lagging = await cli('status')
    expect(lagging.stdout).toContain('pending changes 2')
    expect(lagging.stdout).toMatch(/lag {13}2 rows, \d+\.\d s/)

    // compare reads through the API: the two rows differ until follow applies them.
    const differs = await cli('compare', '--sample', String(N), '--api-key', key)
    expect(differs.stderr).toBe('')
    expect(differs.code).toBe(1)
    expect(differs.stdout).toContain(`legacy id ${ids[4]}`)
    expect(differs.stdout).toContain('status: legacy "bounced"')
    expect(differs.stdout).toContain(`compared ${N} messages through the API, 2 differ`)

    const follow = await cli('follow', '--mapping', mapping.path, '--once', '--rate', '0')
    expect(follow.stdout).toContain('0 inserted, 2 updated, 0 deleted; lag 0 rows, 0.0 s')
    expect(follow.code).toBe(0)
    expect((await cli('status')).stdout).toContain('lag             0 rows, 0.0 s')
    expect((await cli('verify', '--all')).code).toBe(0)
    const same = await cli('compare', '--sample', '5', '--api-key', key)
    expect(same.stdout).toContain('compared 5 messages through the API, 0 differ')
    expect(same.code).toBe(0)

    const finalize = await cli('finalize')
    expect(finalize.stdout).toContain(`run ${new URL(src.url).pathname.slice(1)}.legacy.emails: ${N} messages migrated; legacy.emails archived as legacy.emails_archived_`)
    expect(finalize.code).toBe(0)
    const again = await cli('finalize')
    expect(again.stderr).toContain('the legacy source has no table legacy.emails')
    expect(again.code).toBe(2)
  }, 300_000)
})
