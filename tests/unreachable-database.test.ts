/**
 * A database that cannot be reached is one message at start naming the tier and where (host,
 * port, database), never the password: in-process from openTiers, and from the processes an
 * operator starts (exit 3, no stack trace).
 */
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../src/config.ts'
import { openTiers, TierUnavailableError } from '../src/db/tiers.ts'
import { ROOT } from './support/child.ts'
import { engine, TEST_PG_URL } from './support/databases.ts'
import { useLeakCheck } from './support/leaks.ts'

useLeakCheck()

const PASSWORD = 'pw-4d1c9e-never-shown'
const CLOSED = `postgres://edp:${PASSWORD}@127.0.0.1:1/edp_oltp_prod`

/** Server mode: every tier at `others` (by default unreachable too), except the ones given. */
function serverEnv(overrides: Record<string, string>, others = 'postgres://postgres@127.0.0.1:1/unused'): Record<string, string> {
  return {
    OLTP_DATABASE_URL: others,
    CONTENT_DATABASE_URL: others,
    ANALYTICS_DATABASE_URL: others,
    QUEUE_DATABASE_URL: others,
    ADMIN_TOKEN: 'unreachable-test-admin-token',
    CONTENT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    ...overrides,
  }
}

async function failure(env: Record<string, string>): Promise<Error> {
  try {
    const tiers = await openTiers(loadConfig(env))
    await tiers.close()
  } catch (err) {
    return err as Error
  }
  throw new Error('openTiers opened an unreachable database')
}

async function run(script: string, env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, script], {
    cwd: ROOT,
    env: { ...process.env, TEST_PG_URL: '', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code, output: stdout + stderr }
}

describe('an unreachable database', () => {
  test('a closed port: the tiers on it, host, port and database are named; the password is not', async () => {
    const err = await failure(serverEnv({ OLTP_DATABASE_URL: CLOSED, QUEUE_DATABASE_URL: CLOSED }))
    expect(err).toBeInstanceOf(TierUnavailableError)
    expect(err.message).toContain('oltp and queue tiers')
    expect(err.message).toContain('127.0.0.1:1/edp_oltp_prod')
    expect(err.message).toContain('connection refused')
    expect(err.message).not.toContain(PASSWORD)
  })

  test.skipIf(engine !== 'postgres')('a database that does not exist on a live server is named with its tier', async () => {
    const missing = new URL(TEST_PG_URL!)
    missing.password = PASSWORD
    missing.pathname = '/edp_no_such_database_here'
    const err = await failure(serverEnv({ CONTENT_DATABASE_URL: missing.toString() }, TEST_PG_URL!))
    expect(err).toBeInstanceOf(TierUnavailableError)
    expect(err.message).toContain(`content tier (postgres://${missing.username}@${missing.host}/edp_no_such_database_here)`)
    expect(err.message).toContain('does not exist')
    expect(err.message).not.toContain(PASSWORD)
    expect(err.message).not.toContain('oltp') // the other tiers were reached
  })

  for (const script of ['bin/migrate.ts', 'bin/start.ts', 'bin/workers.ts']) {
    test(`${script} exits 3 with that one message, no stack trace`, async () => {
      const r = await run(script, serverEnv({ OLTP_DATABASE_URL: CLOSED, QUEUE_DATABASE_URL: CLOSED }))
      expect(r.code).toBe(3)
      expect(r.output).toContain('cannot reach the database of the oltp and queue tiers (postgres://edp@127.0.0.1:1/edp_oltp_prod)')
      expect(r.output).not.toContain(PASSWORD)
      expect(r.output).not.toMatch(/^\s+at /m)
    }, 60_000)
  }
})
