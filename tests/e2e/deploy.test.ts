/**
 * Server mode as an operator supervises it: the Procfile's lines run as a supervisor runs them
 * (deploy/check-procfile.ts: release, then web and worker, readiness, heartbeat, a job end to
 * end, SIGTERM), the systemd units pass `systemd-analyze verify`, and MIGRATE_ON_START=false
 * leaves migrating to the release step: a process with workers refuses an older schema.
 */
import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { ROOT } from '../support/child.ts'
import { engine, TEST_PG_URL } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

async function run(cmd: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, TEST_PG_URL: '', ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code, stdout, stderr }
}

describe('deploying server mode', () => {
  test('MIGRATE_ON_START is true unless set to false; anything else is a configuration error', () => {
    expect(loadConfig({}).MIGRATE_ON_START).toBe(true)
    expect(loadConfig({ MIGRATE_ON_START: 'false' }).MIGRATE_ON_START).toBe(false)
    expect(() => loadConfig({ MIGRATE_ON_START: 'no' })).toThrow(ConfigError)
    expect(() => loadConfig({ MIGRATE_ON_START: 'no' })).toThrow('MIGRATE_ON_START')
  })

  test.skipIf(engine !== 'postgres')('the Procfile runs as documented under a supervisor', async () => {
    const r = await run([process.execPath, 'deploy/check-procfile.ts', '--pg', TEST_PG_URL!])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    const checks = r.stdout.split('\n').filter((l) => l.startsWith('ok '))
    expect(checks.map((l) => l.replace(/[\d.]+ s old/, 'N s old'))).toEqual([
      'ok   the Procfile has release, web and worker',
      'ok   web starts before release and answers /ready 503',
      'ok   worker refuses to start before release (exit 1)',
      'ok   web (before release) exits 0 on SIGTERM',
      'ok   release migrates and exits 0: 4 tiers',
      'ok   web answers /ready 200; worker heartbeat N s old',
      'ok   a message written through web is counted by worker',
      'ok   web exits 0 on SIGTERM',
      'ok   worker exits 0 on SIGTERM',
    ])
  }, 300_000)

  test.skipIf(!Bun.which('systemd-analyze'))('the systemd units pass systemd-analyze verify', async () => {
    const r = await run(['sh', 'deploy/verify-units.sh'])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.stdout).toContain('systemd units verified')
  }, 60_000)

  test.skipIf(engine !== 'pglite')('embedded with MIGRATE_ON_START=false: the process runs workers, so an unmigrated DATA_DIR is refused', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'edp-nomigrate-'))
    try {
      const r = await run([process.execPath, 'bin/start.ts'], { DATA_DIR: dataDir, MIGRATE_ON_START: 'false', PORT: '0', LOG_LEVEL: 'info' })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('start: the schema is behind this code (pending oltp')
      expect(r.stderr).toContain('run `npm run migrate` first')
      expect(r.stderr).not.toMatch(/^\s+at /m)
      expect(r.stdout).not.toContain('api listening')
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})
