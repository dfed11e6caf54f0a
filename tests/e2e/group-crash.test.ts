/**
 * Group commit under SIGKILL, four separate databases: the API process dies after a group's
 * shared content transaction committed and before its OLTP transaction. After a restart every
 * acknowledged message reads back with its own content, no ref lacks its content (the dead
 * group's bodies are orphans, with no ref), and analytics count each stored message exactly once.
 */
import { describe, expect, test } from 'bun:test'
import { engine } from '../support/databases.ts'
import { spawnChild, type Child } from '../support/child.ts'
import { eventually } from '../support/eventually.ts'
import { tierUrlEnv, useSystem } from '../support/system.ts'
import { messageKey } from '../../src/storage-keys.ts'

const ADMIN = 'group-crash-admin-token-0123456789'
const sys = useSystem()

async function env() {
  return { ...(await tierUrlEnv()), ADMIN_TOKEN: ADMIN, PORT: '0', LOG_LEVEL: 'info', API_PROCESSES: '1' }
}

const post = (url: string, token: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

async function startApi(): Promise<Child & { url: string }> {
  const child = spawnChild('bin/start.ts', await env())
  const line = await child.waitFor((l) => l.includes('"api listening"'), 120_000)
  return { ...child, url: JSON.parse(line).url.replace(/\/$/, '') }
}

describe('group commit in server mode', () => {
  test.skipIf(engine !== 'postgres')('SIGKILL between a group’s content and OLTP commits loses no acknowledged write and counts none twice', async () => {
    const api = spawnChild('tests/support/group-crash-child.ts', { ...(await env()), BLOCK_AFTER: '10' })
    const url = (await api.waitFor((l) => l.startsWith('listening '), 60_000)).slice('listening '.length).replace(/\/$/, '')
    const tenant = (await (await post(`${url}/v1/tenants`, ADMIN, { name: 'group-crash' })).json()) as any
    const key = tenant.api_key
    const tenantId = tenant.tenant.id
    const account = (await (await post(`${url}/v1/email-accounts`, key, { email_address: 'ops@group.test' })).json()) as any

    const acknowledged = new Map<string, string>()
    let stop = false
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const mark = `${w}-${i}`
        try {
          const r = await post(`${url}/v1/messages`, key, {
            email_account_id: account.id,
            from_email: 'ops@group.test',
            to_email: `lead${mark}@example.com`,
            subject: `m ${mark}`,
            content_html: `<p>${'body '.repeat(200)}${mark}</p>`,
          })
          if (r.status === 201) acknowledged.set(((await r.json()) as any).id, mark)
          else await r.arrayBuffer()
        } catch {
          return // the connection died with the process
        }
      }
    })
    // Killed whatever happens: a child left running after a failure would hammer databases the suite has dropped.
    await api.waitFor((l) => l.startsWith('group content committed'), 60_000).finally(() => api.proc.kill('SIGKILL'))
    stop = true
    await Promise.all(writers)
    await api.proc.exited
    expect(acknowledged.size).toBeGreaterThan(10)

    const again = await startApi()
    const worker = spawnChild('bin/workers.ts', { ...(await env()), ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
    try {
      for (const [id, mark] of acknowledged) {
        const r = await fetch(`${again.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } })
        expect({ id, status: r.status }).toEqual({ id, status: 200 })
        expect(((await r.json()) as any).content.content_html).toEndWith(`${mark}</p>`)
      }
      const refs = await sys.tiers.oltp.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [tenantId])
      const bodies = new Set(
        (await sys.tiers.content.query<{ storage_key: string }>(`SELECT storage_key FROM content.content_objects WHERE tenant_id = $1`, [tenantId])).map(
          (r) => r.storage_key,
        ),
      )
      // No ref without content; the group that died left bodies without refs (orphans for the collector).
      expect(refs.filter((r) => !bodies.has(messageKey(tenantId, r.id)))).toEqual([])
      expect(bodies.size).toBeGreaterThan(refs.length)
      // Each stored message counted as sent exactly once, however its job got to the queue.
      const sent = async () =>
        ((await (await fetch(`${again.url}/v1/analytics/email-accounts/${account.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as any).sent
      await eventually(async () => (await sent()) >= refs.length, 'every stored message counted as sent', 120_000)
      await Bun.sleep(12_000) // past the outbox lease: a job the dead API had leased is sent again by now
      expect(await sent()).toBe(refs.length)
    } finally {
      again.proc.kill('SIGTERM')
      worker.proc.kill('SIGTERM')
      await Promise.all([again.proc.exited, worker.proc.exited])
    }
  }, 300_000)
})
