/**
 * Runs the Procfile the way a supervisor does (each line through `sh -c` in its own process
 * group, one environment for all) against four fresh PostgreSQL databases, and checks what an
 * operator relies on:
 *   1. before the release step, web starts but answers /ready 503, and worker refuses to start;
 *   2. release migrates and exits 0;
 *   3. web answers /ready 200 and shows the worker's heartbeat, and a message written through web
 *      is counted by worker (its job ran);
 *   4. SIGTERM to each process group ends it with exit 0.
 * Prints one line per check and exits 1 at the first that fails. The databases are dropped after.
 *
 *   bun run deploy/check-procfile.ts [--pg URL]   (default $TEST_PG_URL, else the local server)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { commandLine, runCommand } from '../src/cli.ts'
import { postgresDb } from '../src/db/postgres.ts'
import { TIER_NAMES } from '../src/db/tier-names.ts'

const ROOT = join(import.meta.dir, '..')
const cli = {
  name: 'check-procfile',
  usage: `usage: bun run deploy/check-procfile.ts [--pg URL]

Starts every Procfile line as a supervisor would, against four new databases on the PostgreSQL
server at URL (default $TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres), checks
readiness, the worker's heartbeat, a job done end to end and a clean exit on SIGTERM, then drops
the databases.`,
}
const { values } = commandLine(cli, { pg: { type: 'string' } })
const SERVER = values.pg ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const ADMIN = `procfile-check-${crypto.randomUUID()}`

class CheckFailed extends Error {}

/** One Procfile line running in its own process group, with what it has printed so far. */
interface Proc {
  name: string
  child: ChildProcess
  output: string[]
  exited: Promise<number | null>
}

/** The Procfile's `name: command` lines (comments and blank lines skipped, as runners do). */
async function procfile(): Promise<Record<string, string>> {
  const entries: Record<string, string> = {}
  for (const line of (await readFile(join(ROOT, 'Procfile'), 'utf8')).split('\n')) {
    const m = /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line)
    if (m) entries[m[1]!] = m[2]!
  }
  return entries
}

function start(name: string, command: string, env: Record<string, string>): Proc {
  const child = spawn('sh', ['-c', command], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean)))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { name, child, output, exited }
}

const pass = (what: string) => console.log(`ok   ${what}`)

function fail(what: string, procs: Proc[] = []): never {
  const tails = procs.map((p) => `--- ${p.name}, last lines:\n${p.output.slice(-15).join('\n')}`)
  throw new CheckFailed([`FAIL ${what}`, ...tails].join('\n'))
}

async function within<T>(ms: number, what: string, procs: Proc[], probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const got = await probe().catch(() => undefined)
    if (got !== undefined) return got
    if (Date.now() > until) fail(what, procs)
    await Bun.sleep(250)
  }
}

/** SIGTERM to the whole process group, as honcho, foreman and systemd do; the exit code must be 0. */
async function terminate(p: Proc): Promise<void> {
  process.kill(-p.child.pid!, 'SIGTERM')
  const code = await Promise.race([p.exited, Bun.sleep(30_000).then(() => 'timeout' as const)])
  if (code !== 0) {
    process.kill(-p.child.pid!, 'SIGKILL')
    fail(`${p.name} exits 0 on SIGTERM (got ${code})`, [p])
  }
  pass(`${p.name} exits 0 on SIGTERM`)
}

async function readyOf(url: string) {
  const res = await fetch(`${url}/ready`)
  return { status: res.status, body: (await res.json()) as { ready: boolean; workers: { heartbeat_age_seconds: number | null } } }
}

async function check(env: Record<string, string>) {
  const lines = await procfile()
  for (const name of ['release', 'web', 'worker']) if (!lines[name]) fail(`the Procfile has a ${name} line`)
  pass(`the Procfile has release, web and worker`)
  const running: Proc[] = []
  const listening = async (p: Proc) =>
    within(120_000, `${p.name} listens`, [p], async () => {
      const line = p.output.find((l) => l.includes('"api listening"'))
      return line ? (JSON.parse(line).url as string).replace(/\/$/, '') : undefined
    })
  try {
    // 1. Before the release step: nothing migrates on its own.
    const early = start('web (before release)', lines.web!, env)
    running.push(early)
    const earlyUrl = await listening(early)
    const notReady = await within(30_000, 'web answers /ready 503 before release', [early], async () => {
      const r = await readyOf(earlyUrl)
      return r.status === 503 ? r : undefined
    })
    pass(`web starts before release and answers /ready ${notReady.status}`)
    const earlyWorker = start('worker (before release)', lines.worker!, env)
    const refused = await Promise.race([earlyWorker.exited, Bun.sleep(60_000).then(() => 'running' as const)])
    if (refused === 'running' || refused === 0 || !earlyWorker.output.some((l) => l.includes('run `npm run migrate` first'))) {
      if (refused === 'running') process.kill(-earlyWorker.child.pid!, 'SIGKILL')
      fail('worker refuses to start before release', [earlyWorker])
    }
    pass(`worker refuses to start before release (exit ${refused})`)
    await terminate(early)
    running.splice(0)

    // 2. The release step.
    const release = start('release', lines.release!, env)
    const code = await release.exited
    if (code !== 0) fail(`release exits 0 (got ${code})`, [release])
    pass(`release migrates and exits 0: ${release.output.filter((l) => /^\w+: /.test(l)).length} tiers`)

    // 3. The processes a supervisor keeps running.
    const web = start('web', lines.web!, env)
    const worker = start('worker', lines.worker!, env)
    running.push(web, worker)
    const url = await listening(web)
    const ready = await within(60_000, "web answers /ready 200 with the worker's heartbeat", running, async () => {
      const r = await readyOf(url)
      return r.status === 200 && r.body.workers.heartbeat_age_seconds !== null ? r : undefined
    })
    pass(`web answers /ready 200; worker heartbeat ${ready.body.workers.heartbeat_age_seconds} s old`)
    await endToEnd(url, running)

    // 4. How a supervisor stops them.
    for (const p of running) await terminate(p)
    running.splice(0)
  } finally {
    for (const p of running) {
      try {
        process.kill(-p.child.pid!, 'SIGKILL')
      } catch {}
    }
  }
}

/** A tenant, a mailbox and a message through web; its message.created job, run by worker, counts it as sent. */
async function endToEnd(url: string, procs: Proc[]) {
  const post = async (path: string, token: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (res.status !== 201) fail(`POST ${path} answers 201 (got ${res.status}: ${await res.text()})`, procs)
    return (await res.json()) as Record<string, any>
  }
  const tenant = await post('/v1/tenants', ADMIN, { name: 'procfile' })
  const key = tenant.api_key as string
  const account = await post('/v1/email-accounts', key, { email_address: 'ops@procfile.test' })
  await post('/v1/messages', key, { email_account_id: account.id, from_email: 'ops@procfile.test', to_email: 'lead@example.com', subject: 'hello', content_text: 'hi' })
  await within(60_000, 'worker counts the message as sent', procs, async () => {
    const res = await fetch(`${url}/v1/analytics/email-accounts/${account.id}`, { headers: { authorization: `Bearer ${key}` } })
    const body = (await res.json()) as { sent?: number }
    return body.sent === 1 ? true : undefined
  })
  pass('a message written through web is counted by worker')
}

await runCommand(cli, async () => {
  const prefix = `edp_procfile_${process.pid}`
  const admin = postgresDb(SERVER, { max: 1 })
  const urls: Record<string, string> = {}
  try {
    for (const tier of TIER_NAMES) {
      await admin.exec(`CREATE DATABASE "${prefix}_${tier}"`)
      const u = new URL(SERVER)
      u.pathname = `/${prefix}_${tier}`
      urls[`${tier.toUpperCase()}_DATABASE_URL`] = u.toString()
    }
    // One environment for every line, as a Procfile runner gives it; web's own settings are in its command.
    await check({ ...urls, ADMIN_TOKEN: ADMIN, CONTENT_MASTER_KEY: Buffer.alloc(32, 5).toString('base64'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', METRICS_REFRESH_S: '1', ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
    console.log('the Procfile runs as documented')
    return 0
  } catch (err) {
    if (!(err instanceof CheckFailed)) throw err
    console.error(err.message)
    return 1
  } finally {
    for (const tier of TIER_NAMES) await admin.exec(`DROP DATABASE IF EXISTS "${prefix}_${tier}" WITH (FORCE)`)
    await admin.close()
  }
})
