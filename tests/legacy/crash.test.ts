/**
 * `npm run legacy -- migrate` killed with SIGKILL at arbitrary moments, then run again: verify is
 * clean, and every legacy row is there exactly once. The CLI runs as a real process, on PGlite
 * under a DATA_DIR (embedded mode) or on the four PostgreSQL test databases (server mode).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { spawnChild } from '../support/child.ts'
import { engine, migratedSnapshot } from '../support/databases.ts'
import { makeDeps, tierUrlEnv, useSystem } from '../support/system.ts'
import { createSource, createWorld, legacyCli, mappingFile, seedShapeA, SHAPE_A_DDL, SHAPE_A_MAPPING, type Source, type World } from './support.ts'

const N = 400

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

/**
 * Our tiers as the child processes see them, opened here only while no child runs (PGlite is one
 * process's database): the test's own on PostgreSQL, a DATA_DIR from the migrated snapshot on PGlite.
 */
async function withTiers<T>(fn: (tiers: Tiers) => Promise<T>): Promise<T> {
  if (engine === 'postgres') return fn(sys.tiers)
  const first = !dataDir
  dataDir ??= await mkdtemp(join(tmpdir(), 'edp-legacy-crash-'))
  const pg = await openPglite({ dataDir: join(dataDir, 'pglite'), loadDataDir: first ? await migratedSnapshot() : undefined })
  const db = pgliteDb(pg, 'pglite:crash')
  const tiers = tiersFrom({ oltp: db, content: db, analytics: db, queue: db })
  try {
    return await fn(tiers)
  } finally {
    await tiers.close()
  }
}

let world: World
let env: Record<string, string>
beforeAll(async () => {
  world = await withTiers((tiers) => createWorld(makeDeps(tiers)))
  await seedShapeA(src, world, N)
  env = engine === 'postgres' ? await tierUrlEnv() : { DATA_DIR: dataDir! }
})

const migrateArgs = () => ['migrate', '--source', src.url, '--mapping', mapping.path, '--batch', '10', '--rate', '0']

const counts = (tiers: Tiers) =>
  Promise.all([
    tiers.oltp.query<{ n: string; distinct: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS distinct FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [world.tenant]),
    tiers.content.query<{ n: string }>(`SELECT count(*) AS n FROM content.content_objects WHERE tenant_id = $1`, [world.tenant]),
    tiers.oltp.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.legacy_ids WHERE tenant_id = $1`, [world.tenant]),
  ]).then(([[refs], [content], [map]]) => ({ refs: Number(refs!.n), distinct: Number(refs!.distinct), content: Number(content!.n), map: Number(map!.n) }))

describe('legacy migrate under SIGKILL', () => {
  test('killed three times at random moments, run again: verify clean, no duplicate, nothing missing', async () => {
    for (let kill = 0; kill < 3; kill++) {
      const child = spawnChild('bin/legacy.ts', { LOG_LEVEL: 'warn', ...env }, migrateArgs())
      // A progress line means a batch committed in this process; then die somewhere in a later one.
      await child.waitFor((l) => l.includes(`/${N} (`), 120_000)
      await Bun.sleep(Math.random() * 150)
      child.proc.kill('SIGKILL')
      await child.proc.exited
      const c = await withTiers(counts)
      expect(c.refs).toBeLessThan(N) // it died mid-run, not after it
      expect(c.refs).toBe(c.distinct)
      expect(c.refs).toBe(c.map)
      // More content than refs: it died between a batch's content commit and its refs.
      console.error(`kill ${kill + 1}: ${c.refs} refs, ${c.content} content rows`)
    }
    const finish = await legacyCli(migrateArgs(), env)
    expect(finish.code).toBe(0)
    expect(finish.stdout).toContain(`run total: ${N} messages`)

    const verify = await legacyCli(['verify', '--source', src.url, '--all'], env)
    expect(verify.stdout).toContain(`checked ${N} rows, 0 mismatched`)
    expect(verify.code).toBe(0)
    expect(await withTiers(counts)).toEqual({ refs: N, distinct: N, content: N, map: N })
  }, 300_000)
})
