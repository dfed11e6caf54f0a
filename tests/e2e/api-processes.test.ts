/**
 * API_PROCESSES (src/api-processes.ts): N real API processes serve one port; SIGHUP replaces
 * them one at a time while clients keep sending, and no request fails; SIGTERM stops them all.
 */
import { describe, expect, test } from 'bun:test'
import { apiProcesses, ConfigError, loadConfig } from '../../src/config.ts'
import { spawnChild } from '../support/child.ts'
import { engine } from '../support/databases.ts'
import { tierUrlEnv, useSystem } from '../support/system.ts'

const ADMIN = 'processes-test-admin-token-0123456789'

useSystem()

const pidsIn = (lines: string[], msg: string) =>
  new Set(lines.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l).pid as number))

describe('API_PROCESSES', () => {
  test('embedded mode runs one process; asking for more is a configuration error', () => {
    expect(apiProcesses(loadConfig({}))).toBe(1)
    expect(() => apiProcesses(loadConfig({ API_PROCESSES: '2' }))).toThrow(ConfigError)
    expect(() => apiProcesses(loadConfig({ API_PROCESSES: '2' }))).toThrow('API_PROCESSES')
    const server = { OLTP_DATABASE_URL: 'postgres://h/a', CONTENT_DATABASE_URL: 'postgres://h/b', ANALYTICS_DATABASE_URL: 'postgres://h/c', QUEUE_DATABASE_URL: 'postgres://h/d' }
    expect(apiProcesses(loadConfig({ ...server, API_PROCESSES: '3' }))).toBe(3)
    expect(apiProcesses(loadConfig(server))).toBeGreaterThanOrEqual(1)
  })

  test.skipIf(engine !== 'postgres')('two processes share the port; a rolling restart under load fails no request', async () => {
    // The load runs far past the default per-key limit on a fast machine: a 429 would be the limiter, not a restart.
    const api = spawnChild('bin/start.ts', {
      ...(await tierUrlEnv()),
      ADMIN_TOKEN: ADMIN,
      PORT: '0',
      LOG_LEVEL: 'info',
      API_PROCESSES: '2',
      RATE_LIMIT_PER_S: '100000',
      RATE_LIMIT_BURST: '1000000',
    })
    try {
      const url = JSON.parse(await api.waitFor((l) => l.includes('"msg":"api listening"'), 120_000)).url.replace(/\/$/, '')
      const first = pidsIn(api.lines, 'api process listening')
      expect(first.size).toBe(2)

      const post = (path: string, token: string, body: unknown, close = false) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) },
          body: JSON.stringify(body),
        })
      const tenant = (await (await post('/v1/tenants', ADMIN, { name: 'processes' })).json()) as any
      const account = (await (await post('/v1/email-accounts', tenant.api_key, { email_address: 'ops@processes.test' })).json()) as any

      // New connections are spread over both processes: each access line names its process.
      for (let i = 0; i < 40; i++) await (await fetch(`${url}/health`, { headers: { connection: 'close' } })).arrayBuffer()
      const served = new Set(api.lines.filter((l) => l.includes('"route":"/health"')).map((l) => JSON.parse(l).pid as number))
      expect([...served].sort()).toEqual([...first].sort())

      const failures: string[] = []
      let ok = 0
      let stop = false
      const clients = Array.from({ length: 4 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await post('/v1/messages', tenant.api_key, {
              email_account_id: account.id,
              from_email: 'ops@processes.test',
              to_email: `lead${c}-${i}@example.com`,
              subject: `m ${c}-${i}`,
              content_text: 'hello',
            })
            await r.arrayBuffer()
            if (r.status === 201) ok++
            else failures.push(`status ${r.status}`)
          } catch (err) {
            failures.push(String(err))
          }
        }
      })
      await Bun.sleep(300)
      api.proc.kill('SIGHUP')
      await api.waitFor((l) => l.includes('"msg":"rolling restart done"'), 120_000)
      const before = ok
      await Bun.sleep(500)
      stop = true
      await Promise.all(clients)

      expect(failures).toEqual([])
      expect(ok).toBeGreaterThan(before) // the replacements serve
      const now = pidsIn(api.lines, 'api process listening')
      expect(now.size).toBe(4) // two new processes, the old two gone
      api.proc.kill('SIGTERM')
      expect(await api.proc.exited).toBe(0)
      for (const pid of now) expect(alive(pid)).toBe(false)
    } finally {
      api.proc.kill('SIGKILL')
      await api.proc.exited
    }
  }, 240_000)
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
