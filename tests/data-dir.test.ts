/**
 * DATA_DIR holds the embedded database and the admin token: private to the user running the
 * process (directories 0700, files without group or other bits), including a directory an older
 * version left readable. The real process on a fresh DATA_DIR is checked in tests/e2e/embedded.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveAdminToken } from '../src/admin-token.ts'
import { pgliteDataDir, privateDir } from '../src/data-dir.ts'
import { useLeakCheck } from './support/leaks.ts'
import { modesOpenToOthers } from './support/modes.ts'
import { testConfig } from './support/system.ts'

useLeakCheck()

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'edp-data-'))
  dirs.push(d)
  return d
}

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('DATA_DIR permissions', () => {
  test('a new DATA_DIR and its admin token are private', async () => {
    const dataDir = join(await tempDir(), 'data')
    const { path } = await resolveAdminToken(testConfig({ DATA_DIR: dataDir }))
    expect(await mode(dataDir)).toBe(0o700)
    expect(await mode(path!)).toBe(0o600)
  })

  test('an existing world-readable DATA_DIR is tightened at start, the database tree included', async () => {
    const dataDir = join(await tempDir(), 'data')
    await mkdir(join(dataDir, 'pglite', 'base', '1'), { recursive: true })
    await writeFile(join(dataDir, 'admin-token'), 'adm_an-older-token-0123456789\n')
    await writeFile(join(dataDir, 'pglite', 'base', '1', '1259'), 'relation')
    for (const d of [dataDir, join(dataDir, 'pglite'), join(dataDir, 'pglite', 'base'), join(dataDir, 'pglite', 'base', '1')]) await chmod(d, 0o755)
    await chmod(join(dataDir, 'admin-token'), 0o644)
    await chmod(join(dataDir, 'pglite', 'base', '1', '1259'), 0o644)

    expect((await resolveAdminToken(testConfig({ DATA_DIR: dataDir }))).token).toBe('adm_an-older-token-0123456789')
    expect(await pgliteDataDir(dataDir)).toBe(join(dataDir, 'pglite')) // what opening the embedded tiers does first
    expect(await modesOpenToOthers(dataDir)).toEqual([])
    expect(await mode(dataDir)).toBe(0o700)
  })

  test('files written after start are private too', async () => {
    const dataDir = join(await tempDir(), 'data')
    await privateDir(dataDir)
    await writeFile(join(dataDir, 'later'), 'x')
    await mkdir(join(dataDir, 'later-dir'))
    expect(await modesOpenToOthers(dataDir)).toEqual([])
  })
})
