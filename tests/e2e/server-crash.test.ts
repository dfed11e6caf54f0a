/**
 * Invariant 2 in server mode, four separate databases: the API process is killed with SIGKILL
 * in the middle of a stream of writes. Every write that got a 201 is there after the restart,
 * with its content, and its `sent` event still reaches analytics (the worker process's outbox
 * sweep relays what the dead API had not).
 */
import { describe, expect, test } from 'bun:test'
import { engine } from '../support/databases.ts'
import { spawnChild, type Child } from '../support/child.ts'
import { eventually } from '../support/eventually.ts'
import { tierUrlEnv, useSystem } from '../support/system.ts'

const ADMIN = 'crash-test-admin-token-0123456789'

useSystem() // start from empty tiers: no refresh state or queue left by earlier files

async function env() {
  return {
    ...(await tierUrlEnv()),
    ADMIN_TOKEN: ADMIN,
    PORT: '0',
    LOG_LEVEL: 'info',
  }
}

async function startApi(): Promise<Child & { url: string }> {
  const child = spawnChild('bin/start.ts', await env())
  const line = await child.waitFor((l) => l.includes('"api listening"'), 120_000)
  return { ...child, url: JSON.parse(line).url.replace(/\/$/, '') }
}

const post = (url: string, token: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('server mode', () => {
  test.skipIf(engine !== 'postgres')('SIGKILL of the API mid-stream loses no acknowledged write', async () => {
    const api = await startApi()
    const tenant = (await (await post(`${api.url}/v1/tenants`, ADMIN, { name: 'crash' })).json()) as any
    const key = tenant.api_key
    const account = (await (await post(`${api.url}/v1/email-accounts`, key, { email_address: 'ops@crash.test' })).json()) as any

    const acknowledged: string[] = []
    let stop = false
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(`${api.url}/v1/messages`, key, {
            email_account_id: account.id,
            from_email: 'ops@crash.test',
            to_email: `lead${w}-${i}@example.com`,
            subject: `m ${w}-${i}`,
            content_html: `<p>${'body '.repeat(400)}${w}-${i}</p>`,
          })
          if (r.status === 201) acknowledged.push(((await r.json()) as any).id)
        } catch {
          return // the connection died with the process
        }
      }
    })
    while (acknowledged.length < 40) await Bun.sleep(10)
    api.proc.kill('SIGKILL')
    stop = true
    await Promise.all(writers)
    await api.proc.exited

    const again = await startApi()
    const worker = spawnChild('bin/workers.ts', { ...(await env()), ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
    try {
      for (const id of acknowledged) {
        const r = await fetch(`${again.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } })
        expect({ id, status: r.status }).toEqual({ id, status: 200 })
        expect(((await r.json()) as any).content.content_html).toContain('body body')
      }
      // Every acknowledged message is counted as sent once the worker has relayed and applied; rows
      // the dead API had leased wait out their 10 s lease, then the worker's 5 s sweep takes them.
      const sent = async () =>
        ((await (await fetch(`${again.url}/v1/analytics/email-accounts/${account.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as any).sent
      await eventually(async () => (await sent()) >= acknowledged.length, 'every acknowledged message counted as sent', 120_000)
      // More is fine: a write can commit after its client's connection died with the API.
      expect(await sent()).toBeGreaterThanOrEqual(acknowledged.length)
    } finally {
      again.proc.kill('SIGTERM')
      worker.proc.kill('SIGTERM')
      await Promise.all([again.proc.exited, worker.proc.exited])
    }
  }, 240_000)
})
