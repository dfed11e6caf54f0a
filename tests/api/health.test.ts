import { describe, expect, test } from 'bun:test'
import { ADMIN_TOKEN, makeDeps, useSystem } from '../support/system.ts'
import { call } from '../support/api.ts'
import { faultyDb } from '../support/faults.ts'
import { emptyQueues } from '../support/queues.ts'
import { tiersFrom } from '../../src/db/tiers.ts'
import { createApp } from '../../src/http/app.ts'
import { loadMigrations } from '../../src/db/migrate.ts'

const sys = useSystem()

describe('health and readiness', () => {
  test('/health and /ready answer 200 when every tier is reachable and migrated', async () => {
    expect((await call(sys, 'GET', '/health')).body).toEqual({ status: 'ok' })
    const ready = await call(sys, 'GET', '/ready')
    expect(ready.status).toBe(200)
    expect(ready.body.tiers).toEqual({ oltp: { ok: true }, content: { ok: true }, analytics: { ok: true }, queue: { ok: true } })
  })

  test('/ready answers 503 naming an unreachable tier, without driver text', async () => {
    const tiers = tiersFrom({ ...sys.tiers, analytics: faultyDb(sys.tiers.analytics, () => true, 'connect ECONNREFUSED 10.0.0.9:5432') })
    const app = createApp(makeDeps(tiers))
    const r = await call({ ...sys, app }, 'GET', '/ready')
    expect(r.status).toBe(503)
    expect(r.body.tiers.analytics).toEqual({ ok: false, detail: 'unreachable' })
    expect(r.body.tiers.oltp.ok).toBe(true)
    expect(JSON.stringify(r.body)).not.toContain('ECONNREFUSED')
  })

  test('/ready answers 503 naming a tier whose migrations are behind', async () => {
    const [m] = (await loadMigrations('content')).filter((x) => x.tag === '0001_packed_storage')
    const setHash = (hash: string) =>
      sys.tiers.content.query(`UPDATE edp_meta.migrations SET hash = $1 WHERE tier = 'content' AND tag = $2`, [hash, m!.tag])
    // A fresh app per look: one app checks at most once a second (tests/api/monitoring.test.ts).
    const ready = () => call({ ...sys, app: createApp(makeDeps(sys.tiers)) }, 'GET', '/ready')
    await setHash('an older version')
    try {
      const r = await ready()
      expect(r.status).toBe(503)
      expect(r.body.tiers.content).toEqual({ ok: false, detail: 'pending migrations: 0001_packed_storage' })
    } finally {
      await setHash(m!.hash)
    }
    expect((await ready()).status).toBe(200)
  })

  test('/openapi.json documents the routes', async () => {
    const doc = await call(sys, 'GET', '/openapi.json')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/messages', '/v1/messages/{id}', '/v1/messages/{id}/content', '/v1/tenants', '/ready']),
    )
  })
})

describe('metrics', () => {
  test('/metrics exposes queue, analytics and HTTP figures in Prometheus text', async () => {
    await emptyQueues(sys.tiers)
    await call(sys, 'GET', '/v1/messages/not-a-uuid', { token: 'edp_nope' }) // refused by the auth middleware
    await sys.tiers.queue.query(`SELECT pgmq.send('jobs', '{"job":"x","payload":{}}'::jsonb)`)
    const r = await call(sys, 'GET', '/metrics', { token: ADMIN_TOKEN })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toContain('text/plain')
    const text = r.body as string
    expect(text).toMatch(/^edp_queue_depth\{queue="jobs"\} 1$/m)
    expect(text).toMatch(/^edp_queue_depth\{queue="events"\} \d+$/m)
    expect(text).toContain('edp_queue_dead_letters{queue="jobs"} 0')
    // Labelled by the matched pattern (here the auth middleware's), never by the raw path.
    expect(text).toMatch(/edp_http_request_duration_seconds_count\{method="GET",route="\/v1\/messages\/\*",status="401"\} 1/)
    expect(text).not.toContain('not-a-uuid')
    expect(text).toContain('edp_process_cpu_seconds_total')
  })
})
