/**
 * Every command line as a user calls it, in a real process: --help prints the usage and exits 0;
 * an unknown option or a stray argument prints the usage line and exits 2 without a stack trace;
 * `gen` without --messages touches nothing, and never drops a database the benchmarks did not
 * make unless told to with --force.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { ROOT } from './support/child.ts'
import { createPgDatabase, dropPgDatabases, engine, TEST_PG_URL } from './support/databases.ts'
import { useLeakCheck } from './support/leaks.ts'
import { postgresDb } from '../src/db/postgres.ts'

useLeakCheck()

/** A CLOSED port: anything that tried to reach a database here would fail with exit 3, not 2. */
const NOWHERE = 'postgres://postgres:never-shown@127.0.0.1:1/nowhere'

async function run(script: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, TEST_PG_URL: '', BENCH_PG_URL: NOWHERE, LOG_LEVEL: 'silent', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return { code, stdout, stderr }
}

const STACK_FRAME = /^\s+at /m

const COMMANDS = [
  { script: 'bin/migrate.ts', usage: 'usage: npm run migrate' },
  { script: 'bin/dead-letters.ts', usage: 'usage: npm run dead-letters -- list' },
  { script: 'bin/legacy.ts', usage: 'usage: npm run legacy -- <verb>' },
  { script: 'bin/openapi.ts', usage: 'usage: bun run bin/openapi.ts json' },
  { script: 'bin/start.ts', usage: 'usage: npm start' },
  { script: 'bin/workers.ts', usage: 'usage: npm run workers' },
  { script: 'bench/gen.ts', usage: 'usage: npm run gen -- --messages N' },
  { script: 'bench/run.ts', usage: 'usage: npm run bench' },
  { script: 'bin/doctor.ts', usage: 'usage: npm run doctor' },
  { script: 'bin/backup.ts', usage: 'usage: npm run backup' },
  { script: 'bin/restore.ts', usage: 'usage: npm run restore' },
  { script: 'bin/keys.ts', usage: 'usage: npm run keys -- status | rotate-master' },
]

describe('every command line', () => {
  for (const { script, usage } of COMMANDS) {
    test(`${script}: --help prints the usage; an unknown option is refused with the usage line, exit 2`, async () => {
      const [help, unknown] = await Promise.all([run(script, ['--help']), run(script, ['--no-such-flag'])])
      expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' })
      expect(help.stdout.startsWith(usage)).toBe(true)
      expect(unknown.code).toBe(2)
      expect(unknown.stdout).toBe('')
      expect(unknown.stderr).toContain('--no-such-flag')
      expect(unknown.stderr).toContain(usage)
      expect(unknown.stderr).not.toMatch(STACK_FRAME)
    }, 60_000)
  }

  test('a stray argument, a bad value and a missing command are usage mistakes too', async () => {
    const cases = await Promise.all([
      run('bin/start.ts', ['now']),
      run('bin/migrate.ts', ['up']),
      run('bin/dead-letters.ts', ['list', '--limit', 'lots']),
      run('bin/dead-letters.ts', []),
      run('bin/openapi.ts', ['yaml']),
      run('bench/run.ts', ['--only', 'queue,nonsense']),
      run('bin/legacy.ts', ['migrate', '--batch', '0']),
    ])
    const seen = cases.map((c) => ({ code: c.code, stack: STACK_FRAME.test(c.stderr), usage: /usage: /.test(c.stderr) }))
    expect(seen).toEqual(cases.map(() => ({ code: 2, stack: false, usage: true })))
    expect(cases[0]!.stderr).toContain("Unexpected argument 'now'")
    expect(cases[2]!.stderr).toContain('--limit must be an integer')
    expect(cases[5]!.stderr).toContain('unknown benchmark nonsense')
  }, 60_000)

  test('gen without --messages asks nothing of any database', async () => {
    const r = await run('bench/gen.ts', ['--database', 'postgres'])
    expect(r.code).toBe(2) // 3 would mean it tried to reach BENCH_PG_URL
    expect(r.stderr).toContain('--messages N is required')
    expect(r.stderr).not.toMatch(STACK_FRAME)
  })
})

describe('gen and a database it did not make', () => {
  const name = `edp_t${process.pid}_not_a_dataset`
  afterAll(async () => {
    if (engine === 'postgres') await dropPgDatabases([name])
  })

  test.skipIf(engine !== 'postgres')('is refused without --force, and left as it was', async () => {
    const url = await createPgDatabase(name)
    const db = postgresDb(url, { max: 1 })
    try {
      await db.exec(`CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)`)
      const r = await run('bench/gen.ts', ['--messages', '10', '--tenants', '1', '--database', name], { BENCH_PG_URL: TEST_PG_URL! })
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`the database ${name} on ${new URL(TEST_PG_URL!).host} exists and was not made by the benchmarks; pass --force`)
      expect(r.stderr).not.toMatch(STACK_FRAME)
      expect(await db.query(`SELECT id FROM precious`)).toEqual([{ id: 42 }])
    } finally {
      await db.close()
    }
  }, 60_000)
})
