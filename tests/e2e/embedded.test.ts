/**
 * `npm start` as a user runs it: a real process on embedded PGlite. A write that got its 201
 * survives SIGKILL; SIGTERM shuts down cleanly; the admin token persists across restarts and is
 * shown once, on stderr, when it is generated (never on stdout, the shipped log stream, and never
 * again); DATA_DIR is private to the user.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine } from '../support/databases.ts'
import { spawnChild, type Child } from '../support/child.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { modesOpenToOthers } from '../support/modes.ts'

interface Server extends Child {
  url: string
  adminToken: string
}

async function start(dataDir: string): Promise<Server> {
  const child = spawnChild('bin/start.ts', { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' })
  try {
    // A cold start (initdb, every migration, pgmq) took 43 s on a loaded 2-core machine.
    const listening = await child.waitFor((l) => l.includes('"api listening"'), 180_000)
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
    return { ...child, url: JSON.parse(listening).url.replace(/\/$/, ''), adminToken: token }
  } catch (err) {
    child.proc.kill('SIGKILL')
    throw new Error(`server did not start: ${(err as Error).message}\n${await child.stderr()}`)
  }
}

async function json(res: Response) {
  return { status: res.status, body: (await res.json()) as any }
}

useLeakCheck()

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

// The process always runs embedded; running it once per CI run is enough.
describe('embedded mode process', () => {
  test.skipIf(engine !== 'pglite')('a 201 survives kill -9; SIGTERM exits 0; the admin token is kept and shown once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'edp-e2e-'))
    dirs.push(dataDir)
    const first = await start(dataDir)
    const post = (s: Server, path: string, token: string, body: unknown) =>
      fetch(`${s.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(json)

    const tenant = await post(first, '/v1/tenants', first.adminToken, { name: 'e2e' })
    expect(tenant.status).toBe(201)
    const key = tenant.body.api_key
    const account = await post(first, '/v1/email-accounts', key, { email_address: 'ops@e2e.test' })
    const message = await post(first, '/v1/messages', key, {
      email_account_id: account.body.id,
      from_email: 'ops@e2e.test',
      to_email: 'x@example.com',
      subject: 'durable?',
      content_html: '<p>kept</p>'.repeat(500),
    })
    expect(message.status).toBe(201)
    // The database and the admin token, as the running process wrote them: nothing readable by others.
    expect(await modesOpenToOthers(dataDir)).toEqual([])
    first.proc.kill('SIGKILL')
    await first.proc.exited
    // Shown once as it was generated: one line on stderr, through the logger, with where it is kept.
    const shown = (await first.stderr()).split('\n').filter((l) => l.includes(first.adminToken))
    expect(shown).toHaveLength(1)
    expect(JSON.parse(shown[0]!)).toMatchObject({ admin_token: first.adminToken, kept_in: join(dataDir, 'admin-token') })
    expect(first.lines.join('\n')).not.toContain(first.adminToken)

    const second = await start(dataDir)
    expect(second.adminToken).toBe(first.adminToken)
    const got = await fetch(`${second.url}/v1/messages/${message.body.id}`, { headers: { authorization: `Bearer ${key}` } }).then(json)
    expect(got.status).toBe(200)
    expect(got.body.content.content_html).toBe('<p>kept</p>'.repeat(500))
    expect((await fetch(`${second.url}/ready`).then(json)).status).toBe(200)

    second.proc.kill('SIGTERM')
    expect(await second.proc.exited).toBe(0)
    // Never again: the second start kept the token and printed it nowhere.
    expect(second.lines.join('\n')).not.toContain(second.adminToken)
    expect(await second.stderr()).not.toContain(second.adminToken)
  }, 400_000)
})
