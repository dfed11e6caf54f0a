/**
 * Limits that keep one client from hurting the others: deep JSON answered at once, per-key rate
 * limits shared by every API process, tenant overrides, and a cap on concurrent large bodies.
 */
import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { MAX_JSON_DEPTH } from '../../src/http/env.ts'
import { MAX_EVENT_METADATA_BYTES } from '../../src/limits.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { call, createTenant } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem()

const nested = (depth: number, leaf: unknown = 'x'): unknown => {
  let v = leaf
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}

describe('deep JSON', () => {
  test('a body nested 20,000 levels is refused at once while /health keeps answering', async () => {
    const t = await createTenant(sys, 'deep')
    const before = await rowCounts(sys)
    const body = JSON.stringify({ title: 'deep', data: nested(20_000) })
    const started = performance.now()
    const [deep, health] = await Promise.all([
      call(sys, 'POST', '/v1/notifications', { token: t.key, rawBody: body, headers: { 'content-type': 'application/json' } }),
      call(sys, 'GET', '/health'),
    ])
    const ms = performance.now() - started
    expect(health.status).toBe(200)
    expect(deep.status).toBe(422)
    expect(deep.body.errors[0]).toEqual({ field: 'data.a.a', message: `nests deeper than ${MAX_JSON_DEPTH} levels` })
    // Quadratic, this took 30 s; linear it is milliseconds. The bound only catches the regression.
    expect(ms).toBeLessThan(2000)
    expect(await rowCounts(sys)).toEqual(before)
  })

  test('an event batch with deep metadata is 422 naming the event, not a 500', async () => {
    const t = await createTenant(sys, 'deep-events')
    const event = { event_id: 'e1', message_id: '01900000-0000-7000-8000-000000000000', type: 'opened', occurred_at: new Date().toISOString() }
    const r = await call(sys, 'POST', '/v1/events', { token: t.key, body: { events: [{ ...event, metadata: nested(5_000) }] } })
    expect(r.status).toBe(422)
    expect(r.body.errors[0].field).toBe('events.0.metadata')
  })

  test('nesting up to the limit is accepted', async () => {
    const t = await createTenant(sys, 'shallow')
    const r = await call(sys, 'POST', '/v1/notifications', { token: t.key, body: { title: 'ok', data: nested(MAX_JSON_DEPTH - 2) } })
    expect(r.status).toBe(201)
  })
})

describe('rate limits', () => {
  test('a key over its burst gets 429 with Retry-After and RateLimit headers; another key is unaffected', async () => {
    const app = createApp(makeDeps(sys.tiers, { config: testConfig({ RATE_LIMIT_PER_S: '1', RATE_LIMIT_BURST: '5' }) }))
    const t = await createTenant(sys, 'limited')
    const other = await createTenant(sys, 'unlimited')
    const get = (key: string) => app.request('/v1/campaigns', { headers: { authorization: `Bearer ${key}` } })
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await get(t.key)).status)
    // Creating the tenant's mailbox spent a token of the default-limited app, not of this one.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    const refused = await get(t.key)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(refused.headers.get('ratelimit-limit')).toBe('5')
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect((await get(other.key)).status).toBe(200)
  })

  test('the budget is shared by every API process', async () => {
    const config = testConfig({ RATE_LIMIT_PER_S: '1', RATE_LIMIT_BURST: '6' })
    // Two apps over the same databases stand for two API processes.
    const apps = [createApp(makeDeps(sys.tiers, { config })), createApp(makeDeps(sys.tiers, { config }))]
    const t = await createTenant(sys, 'shared-budget')
    let ok = 0
    for (let i = 0; i < 12; i++) {
      const r = await apps[i % 2]!.request('/v1/campaigns', { headers: { authorization: `Bearer ${t.key}` } })
      if (r.status === 200) ok++
      else expect(r.status).toBe(429)
    }
    // One token may refill during the run.
    expect(ok).toBeGreaterThanOrEqual(6)
    expect(ok).toBeLessThanOrEqual(7)
  })

  test('a tenant’s own limits override the defaults', async () => {
    const app = createApp(makeDeps(sys.tiers, { config: testConfig({ RATE_LIMIT_PER_S: '1', RATE_LIMIT_BURST: '2' }) }))
    const t = await createTenant(sys, 'generous')
    const set = await call(sys, 'PATCH', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN, body: { rate_limit_burst: 10 } })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ rate_limit_burst: 10, rate_limit_per_s: null })
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await app.request('/v1/campaigns', { headers: { authorization: `Bearer ${t.key}` } })).status)
    expect(statuses.every((s) => s === 200)).toBe(true)
    const bad = await call(sys, 'PATCH', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN, body: { rate_limit_per_s: 0 } })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('rate_limit_per_s')
  })
})

describe('large bodies', () => {
  test('past the cap on concurrent large bodies a request is refused with 503 before its body is read', async () => {
    const app = createApp(makeDeps(sys.tiers, { config: testConfig({ LARGE_BODY_BYTES: '1000', MAX_CONCURRENT_LARGE_BODIES: '1' }) }))
    const t = await createTenant(sys, 'uploads')
    const payload = JSON.stringify({ title: 'big', body: 'x'.repeat(2000) })
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    // A slow upload: its body arrives only when the test releases it.
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await held
        controller.enqueue(new TextEncoder().encode(payload))
        controller.close()
      },
    })
    const headers = { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', 'content-length': String(payload.length) }
    const first = app.request('/v1/notifications', { method: 'POST', headers, body: slow, duplex: 'half' } as RequestInit)
    await Bun.sleep(50)
    const second = await app.request('/v1/notifications', { method: 'POST', headers, body: payload })
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('1')
    release()
    expect((await first).status).toBe(201)
    // The slot is free again; small bodies never wait for one.
    expect((await app.request('/v1/notifications', { method: 'POST', headers, body: payload })).status).toBe(201)
  })
})

describe('response headers', () => {
  test('JSON and problem answers are nosniff and no-store', async () => {
    const t = await createTenant(sys, 'headers')
    for (const r of [await call(sys, 'GET', '/v1/campaigns', { token: t.key }), await call(sys, 'GET', '/v1/campaigns'), await call(sys, 'GET', '/nowhere')]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
      expect(r.headers.get('cache-control')).toBe('no-store')
    }
  })
})

describe('event metadata', () => {
  test('an event whose metadata is over the cap is 422 naming it; nothing is queued', async () => {
    const t = await createTenant(sys, 'meta')
    const before = await rowCounts(sys)
    const event = { event_id: 'm1', message_id: '01900000-0000-7000-8000-000000000000', type: 'opened', occurred_at: new Date().toISOString() }
    const r = await call(sys, 'POST', '/v1/events', { token: t.key, body: { events: [{ ...event, metadata: { ua: 'x'.repeat(MAX_EVENT_METADATA_BYTES) } }] } })
    expect(r.status).toBe(422)
    expect(r.body.errors[0].field).toBe('events.0.metadata')
    expect(await rowCounts(sys)).toEqual(before)
  })
})
