/**
 * src/http/handler.ts, the API alone as a `{ fetch }` (served by `deno serve bin/api.ts`): what it
 * refuses at boot, what it opens and when, and how it closes. scripts/deno-walkthrough.ts runs it
 * under Deno against real databases.
 */
import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { apiHandler } from '../../src/http/handler.ts'
import { openHandles } from '../../src/open-handles.ts'
import { createLogger } from '../../src/system.ts'
import { engine } from '../support/databases.ts'
import { ADMIN_TOKEN, TEST_MASTER_KEY, tierUrlEnv, useSystem } from '../support/system.ts'

useSystem() // the test databases' URLs on PostgreSQL, and the leak check

const silent = createLogger({ LOG_LEVEL: 'silent' })
// Nothing listens on port 1: a pool aimed there fails only when something queries through it.
const nowhere = {
  OLTP_DATABASE_URL: 'postgres://edp@127.0.0.1:1/oltp',
  CONTENT_DATABASE_URL: 'postgres://edp@127.0.0.1:1/content',
  ANALYTICS_DATABASE_URL: 'postgres://edp@127.0.0.1:1/analytics',
  QUEUE_DATABASE_URL: 'postgres://edp@127.0.0.1:1/queue',
  ADMIN_TOKEN,
  CONTENT_MASTER_KEY: TEST_MASTER_KEY,
}
const pools = () => openHandles().filter((h) => h.kind === 'pool').length
const get = (path: string, token?: string) =>
  new Request(`http://api.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })

describe('the API-only handler', () => {
  test('refuses at boot, naming what to set: embedded mode, in-process workers, no ADMIN_TOKEN, no CONTENT_MASTER_KEY', async () => {
    const refusal = async (env: Record<string, string>) => {
      const err = await apiHandler(loadConfig(env), silent).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      return (err as Error).message
    }
    const { CONTENT_DATABASE_URL, QUEUE_DATABASE_URL, ...twoUnset } = nowhere
    const embedded = await refusal(twoUnset)
    expect(embedded).toContain('CONTENT_DATABASE_URL, QUEUE_DATABASE_URL: required')
    expect(embedded).toContain('npm start')
    expect(await refusal({ ...nowhere, WORKERS_IN_PROCESS: 'true' })).toContain('npm run workers')
    const { ADMIN_TOKEN: _, ...noToken } = nowhere
    expect(await refusal(noToken)).toContain('ADMIN_TOKEN')
    // Without the content master key no body could be read or written: refused at boot, not a 503 per request.
    const { CONTENT_MASTER_KEY: __, ...noMasterKey } = nowhere
    expect(await refusal(noMasterKey)).toContain('CONTENT_MASTER_KEY: required when the tiers are postgres:// URLs')
  })

  test('opens no pool until the first request; close() closes them and later requests get 503', async () => {
    const before = pools()
    const api = await apiHandler(loadConfig(nowhere), silent)
    expect(pools()).toBe(before)

    expect((await api.fetch(get('/health'))).status).toBe(200) // touches no database
    expect(pools()).toBe(before + 4)
    const ready = await api.fetch(get('/ready'))
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { tiers: Record<string, unknown> }).tiers.oltp).toEqual({ ok: false, detail: 'unreachable' })

    await api.close()
    expect(pools()).toBe(before)
    const late = await api.fetch(get('/health'))
    expect(late.status).toBe(503)
    expect(((await late.json()) as { detail: string }).detail).toBe('the API is shutting down')
  })

  test('close() lets a request in flight finish first', async () => {
    const api = await apiHandler(loadConfig(nowhere), silent)
    const inFlight = api.fetch(get('/ready')) // fails to connect, but answers
    const closed = api.close()
    const r = await inFlight
    expect(r.status).toBe(503)
    expect(((await r.json()) as { ready: boolean }).ready).toBe(false) // the readiness answer, not "shutting down"
    await closed
  })

  test.skipIf(engine !== 'postgres')('on migrated databases: ready, an admin call, /metrics read on the scrape', async () => {
    const api = await apiHandler(loadConfig({ ...(await tierUrlEnv()), ADMIN_TOKEN }), silent)
    try {
      const ready = await api.fetch(get('/ready'))
      expect(((await ready.json()) as { tiers: unknown }).tiers).toEqual({ oltp: { ok: true }, content: { ok: true }, analytics: { ok: true }, queue: { ok: true } })
      const tenant = await api.fetch(
        new Request('http://api.test/v1/tenants', {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'handler test' }),
        }),
      )
      expect(tenant.status).toBe(201)
      const metrics = await (await api.fetch(get('/metrics', ADMIN_TOKEN))).text()
      expect(metrics).toMatch(/^edp_queue_depth\{queue="events"\} \d+$/m)
    } finally {
      await api.close()
    }
  })
})
