/**
 * The README walkthrough's core against the API served by Deno (`deno serve bin/api.ts`) in server
 * mode: four PostgreSQL databases made for the run, migrations by the Bun CLI (`npm run migrate`),
 * workers by Bun (`npm run workers`; analytics needs them). Exits 1 on the first mismatch; its
 * processes and databases go away whatever happens, Ctrl-C included.
 *
 *   bun scripts/deno-walkthrough.ts        (PG_URL, else TEST_PG_URL, else the local server)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pino from 'pino'
import postgres from 'postgres'
import { loadConfig } from '../src/config.ts'
import { postgresDb } from '../src/db/postgres.ts'
import { ContentKeys } from '../src/services/content-keys.ts'
import { openStored } from '../src/services/content-seal.ts'
import { STORED_BODY_COLUMNS, type StoredColumns } from '../src/tiers/content/sealing.ts'

const ROOT = join(import.meta.dirname, '..')
const SERVER = process.env.PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const TIERS = ['oltp', 'content', 'analytics', 'queue'] as const
const PREFIX = 'edp_deno_walk'
const RUN = `${PREFIX}_${process.pid}`
const ADMIN = `adm_${randomBytes(18).toString('base64url')}`

const urlOf = (database: string) => Object.assign(new URL(SERVER), { pathname: `/${database}` }).toString()
interface Child {
  name: string
  proc: ChildProcess
  output: string[]
  /** Its exit code once it has exited (null when a signal ended it), -1 when it could not start. */
  exit: Promise<number | null>
  ended: boolean
}
const children: Child[] = []
const step = (what: string) => console.log(`-- ${what}`)

class Mismatch extends Error {}
function expectEqual(what: string, actual: unknown, expected: unknown) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Mismatch(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return await fn(sql)
  } finally {
    await sql.end()
  }
}

/** Databases of runs that died without cleaning up (their process is gone), then this run's four. */
async function createDatabases() {
  await withSql(SERVER, async (sql) => {
    const rows = await sql<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname LIKE ${`${PREFIX}\\_%`}`
    for (const { datname } of rows) {
      const pid = Number(/_(\d+)_/.exec(datname.slice(PREFIX.length))?.[1])
      if (pid && !alive(pid)) await sql.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
    }
    for (const t of TIERS) await sql.unsafe(`CREATE DATABASE "${RUN}_${t}"`)
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const dropDatabases = () =>
  withSql(SERVER, async (sql) => {
    for (const t of TIERS) await sql.unsafe(`DROP DATABASE IF EXISTS "${RUN}_${t}" WITH (FORCE)`)
  })

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  ...Object.fromEntries(TIERS.map((t) => [`${t.toUpperCase()}_DATABASE_URL`, urlOf(`${RUN}_${t}`)])),
  ADMIN_TOKEN: ADMIN,
  // Server mode seals content under a master key it must be given; the walkthrough's data is throwaway.
  CONTENT_MASTER_KEY: Buffer.alloc(32, 5).toString('base64'),
  LOG_LEVEL: 'warn',
  ANALYTICS_REFRESH_DEBOUNCE_S: '0',
  TEST_PG_URL: '',
  DENO_NO_UPDATE_CHECK: '1',
  NO_COLOR: '1',
}

/** Starts a command in its own process group, so stopping it stops whatever it started (npm → bun). */
function start(name: string, cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const keep = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}`))
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const child: Child = {
    name,
    proc,
    output,
    ended: false,
    exit: new Promise((resolve) => {
      proc.once('exit', (code) => resolve(code))
      proc.once('error', (err) => {
        output.push(`[${name}] could not start ${cmd}: ${err.message}`)
        resolve(-1)
      })
    }),
  }
  void child.exit.then(() => (child.ended = true))
  children.push(child)
  return child
}

/** SIGTERM to the group, SIGKILL after 10 s; resolves with whether it exited by itself, and its code. */
async function stop(child: Child): Promise<{ clean: boolean; code: number | null }> {
  if (child.ended) return { clean: true, code: await child.exit }
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.proc.pid!, signal)
    } catch {}
  }
  let clean = true
  group('SIGTERM')
  const timer = setTimeout(() => {
    clean = false
    group('SIGKILL')
  }, 10_000)
  const code = await child.exit
  clearTimeout(timer)
  group('SIGKILL') // anything the group leader left behind
  return { clean, code }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch((err) => {
      if (err instanceof Mismatch) throw err
      return undefined // not answering yet
    })
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Mismatch(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function walkthrough(base: string) {
  const call = async (method: string, path: string, token: string, body?: unknown, expectStatus = method === 'POST' ? 201 : 200) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (res.status !== expectStatus) throw new Mismatch(`${method} ${path}: expected ${expectStatus}, got ${res.status}: ${text.slice(0, 500)}`)
    return text
  }
  const json = async (method: string, path: string, token: string, body?: unknown, status?: number) =>
    JSON.parse(await call(method, path, token, body, status)) as any

  step('the API answers, and reports its tiers migrated')
  expectEqual('GET /ready', (await json('GET', '/ready', '')).ready, true)

  step('a tenant and its API key')
  const created = await json('POST', '/v1/tenants', ADMIN, { name: 'Acme (Deno walkthrough)' })
  const key = created.api_key as string
  step('a mailbox, a campaign with a first step, a lead')
  const account = (await json('POST', '/v1/email-accounts', key, { email_address: 'sales@acme.test', display_name: 'Acme Sales' })).id
  const campaign = (await json('POST', '/v1/campaigns', key, { name: 'Q4 outreach' })).id
  const stepId = (await json('POST', `/v1/campaigns/${campaign}/steps`, key, { step_number: 1, subject: 'Quick question', delay_days: 0 })).id
  const lead = (await json('POST', '/v1/leads', key, { email: 'jane@example.com', first_name: 'Jane' })).id

  step('an outbound message with a body large enough to be stored zstd-compressed, and an attachment')
  const text = `Hi Jane, do you have 10 minutes this week? ${'We help teams ship mail. '.repeat(80)}`
  const html = `<p>${text}</p>`
  const message = (
    await json('POST', '/v1/messages', key, {
      email_account_id: account,
      sequence_step_id: stepId,
      lead_id: lead,
      from_email: 'sales@acme.test',
      to_email: 'jane@example.com',
      subject: 'Quick question',
      content_text: text,
      content_html: html,
      headers: { 'X-Mailer': 'edp' },
      attachments: [{ filename: 'hello.txt', mime_type: 'text/plain', content_base64: 'aGVsbG8=' }],
    })
  ).id as string

  step('read it back with its content')
  const listed = await json('GET', `/v1/messages?email_account_id=${account}&limit=10`, key)
  expectEqual('listing', listed.data.map((m: { id: string }) => m.id), [message])
  const got = await json('GET', `/v1/messages/${message}`, key)
  expectEqual('subject', got.subject, 'Quick question')
  expectEqual('content', [got.content.content_text, got.content.content_html], [text, html])
  expectEqual('attachments', got.attachments.map((a: { filename: string }) => a.filename), ['hello.txt'])
  expectEqual('attachment bytes', await call('GET', `/v1/messages/${message}/attachments/${got.attachments[0].id}`, key), 'hello')

  step('the body Deno stored is sealed; opened with the tenant key, it is the zstd frame Bun writes, and Bun reads it')
  const content = postgresDb(urlOf(`${RUN}_content`), { max: 1 })
  const packed = await (async () => {
    try {
      const [row] = await content.query<StoredColumns & { compression_type: string }>(
        `SELECT ${STORED_BODY_COLUMNS.join(', ')} FROM content.content_objects WHERE tenant_id = $1`,
        [created.id],
      )
      expectEqual('compression', row?.compression_type, 'zstd')
      expectEqual('sealed under a tenant key', typeof row?.key_id, 'string')
      const keys = ContentKeys.fromConfig(content, pino({ level: 'silent' }), loadConfig(env))
      return new Uint8Array((await openStored(keys, created.id, row!)).content_html_packed!)
    } finally {
      await content.close()
    }
  })()
  expectEqual('Bun reads it', new TextDecoder().decode(Bun.zstdDecompressSync(packed)), html)
  expectEqual('same bytes as Bun writes', Buffer.from(Bun.zstdCompressSync(new TextEncoder().encode(html), { level: 3 })).equals(Buffer.from(packed)), true)

  step('an event from a provider, then the campaign analytics counting it')
  const event = { event_id: 'evt-1', message_id: message, type: 'opened', occurred_at: new Date().toISOString() }
  await call('POST', '/v1/events', key, { events: [event] }, 202)
  const analytics = await eventually('the campaign counting the message as sent and opened', async () => {
    const a = await json('GET', `/v1/analytics/campaigns/${campaign}`, key)
    return a.sent === 1 && a.opened === 1 ? a : undefined
  })
  expectEqual('open rate', analytics.open_rate, 1)

  step('/metrics shows the queues (read on a scrape: this process runs no monitor timer)')
  const metrics = await call('GET', '/metrics', ADMIN)
  if (!/^edp_queue_depth\{queue="events"\} \d+$/m.test(metrics)) throw new Mismatch('/metrics has no edp_queue_depth for the events queue')
}

async function main() {
  step(`databases ${RUN}_{${TIERS.join(',')}} on ${urlOf('')}`)
  await createDatabases()
  step('migrations by the Bun CLI: npm run migrate')
  const migrate = start('migrate', 'npm', ['run', '--silent', 'migrate'])
  if ((await migrate.exit) !== 0) throw new Mismatch('npm run migrate failed')

  step('workers by Bun: npm run workers')
  start('workers', 'npm', ['run', '--silent', 'workers'])
  step('the API by Deno: deno serve bin/api.ts')
  const deno = join(ROOT, 'node_modules', '.bin', 'deno')
  // --allow-sys: pino reads the hostname at load. /proc/self stays closed (it needs --allow-all): prom-client's process_* memory and fd gauges read 0.
  const perms = ['--allow-env', '--allow-net', '--allow-read', '--allow-sys']
  const api = start('deno', deno, ['serve', ...perms, '--host', '127.0.0.1', '--port', '0', 'bin/api.ts'])
  const base = await eventually('deno serve to listen', async () => {
    if (api.ended) throw new Mismatch(`deno serve exited with ${await api.exit}`)
    return /Listening on (http:\/\/\S+?)\/?$/m.exec(api.output.join('\n'))?.[1]
  })
  step(`listening on ${base}`)
  await walkthrough(base)

  step('SIGTERM: deno serve finishes, closes its pools and exits 0')
  const stopped = await stop(api)
  expectEqual('deno serve stopped by SIGTERM alone, exit code', stopped, { clean: true, code: 0 })
}

let failed = false
const cleanUp = async () => {
  await Promise.all(children.map(stop))
  await dropDatabases()
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: cleaning up`)
    void cleanUp().finally(() => process.exit(130))
  })
}
try {
  await main()
  console.log('deno walkthrough: every step matched')
} catch (err) {
  failed = true
  console.error(err instanceof Mismatch ? `MISMATCH: ${err.message}` : err)
  for (const c of children) console.error(c.output.slice(-30).join('\n'))
} finally {
  await cleanUp()
}
process.exit(failed ? 1 : 0)
