/**
 * /metrics and /ready cost the tiers and the event loop a bounded amount however many probes
 * arrive: scrapes render the monitor's last snapshot (read at most once per METRICS_REFRESH_S),
 * the text at most once a second, readiness is checked at most once a second, and concurrent
 * callers share one read. /metrics needs the admin token.
 */
import { describe, expect, test } from 'bun:test'
import type { Db } from '../../src/db/types.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { createApp } from '../../src/http/app.ts'
import { call, createTenant } from '../support/api.ts'
import { StoppedClock, TestClock } from '../support/clock.ts'
import { eventually } from '../support/eventually.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'

const sys = useSystem()

/** The test tiers, counting the statements that match (one tier's snapshot or readiness read each). */
function counting(tiers: Tiers, match: RegExp): { tiers: Tiers; count: () => number } {
  let n = 0
  const wrap = (db: Db): Db => ({
    ...db,
    query: (text, params) => {
      if (match.test(text)) n++
      return db.query(text, params)
    },
  })
  // Tiers sharing one database keep sharing one wrapper.
  const wrapped = new Map([...new Set(TIER_NAMES.map((t) => tiers[t]))].map((db) => [db, wrap(db)]))
  const dbs = Object.fromEntries(TIER_NAMES.map((t) => [t, wrapped.get(tiers[t])!])) as Record<TierName, Db>
  return { tiers: tiersFrom(dbs), count: () => n }
}

// One statement per metrics snapshot counts recent job outcomes; every readiness check reads each tier's migration ledger.
const SNAPSHOT = /count\(\*\) AS n FROM queue\.job_logs/
const READINESS = /edp_meta\.migrations/

describe('/metrics', () => {
  test('needs the admin token: none, a tenant key or a wrong token answer 401', async () => {
    const tenant = await createTenant(sys, 'metrics-auth')
    expect((await call(sys, 'GET', '/metrics')).status).toBe(401)
    expect((await call(sys, 'GET', '/metrics', { token: tenant.key })).status).toBe(401)
    expect((await call(sys, 'GET', '/metrics', { token: `${ADMIN_TOKEN}x` })).status).toBe(401)
    const ok = await call(sys, 'GET', '/metrics', { token: ADMIN_TOKEN })
    expect(ok.status).toBe(200)
    expect(ok.body).toContain('edp_queue_depth')
  })

  test('32 concurrent scrapes read the tiers once, and later scrapes within the interval not at all', async () => {
    const { tiers, count } = counting(sys.tiers, SNAPSHOT)
    const clock = new TestClock()
    const app = createApp(makeDeps(tiers, { clock }))
    const scrape = () => call({ ...sys, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })
    const replies = await Promise.all(Array.from({ length: 32 }, scrape))
    expect(replies.map((r) => r.status)).toEqual(Array(32).fill(200))
    expect(count()).toBe(1)
    clock.advance(3_000) // METRICS_REFRESH_S is 5 (the test clock also moves with real time)
    await Promise.all(Array.from({ length: 8 }, scrape))
    expect(count()).toBe(1)
    clock.advance(2_000)
    await Promise.all(Array.from({ length: 8 }, scrape))
    expect(count()).toBe(2)
  })

  test('the text is rendered at most once a second: scrapes in between get the same text', async () => {
    const clock = new TestClock()
    const app = createApp(makeDeps(sys.tiers, { clock }))
    const scrape = async () => (await call({ ...sys, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })).body as string
    const scraped = /^edp_http_request_duration_seconds_count\{method="GET",route="\/metrics",status="200"\} (\d+)$/m
    const first = await scrape()
    expect(first).not.toMatch(scraped) // rendered before its own request was counted
    clock.advance(500)
    expect(await scrape()).toBe(first)
    clock.advance(500)
    expect((await scrape()).match(scraped)?.[1]).toBe('2')
  })

  test('once started, the monitor reads on its timer and a scrape only renders', async () => {
    const { tiers, count } = counting(sys.tiers, SNAPSHOT)
    const deps = makeDeps(tiers, { config: testConfig({ METRICS_REFRESH_S: '1' }) })
    const app = createApp(deps)
    deps.monitor.start()
    try {
      await eventually(async () => count() === 1, 'the first read')
      await deps.monitor.snapshot()
      for (let i = 0; i < 5; i++) expect((await call({ ...sys, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })).status).toBe(200)
      expect(count()).toBe(1)
      await eventually(async () => count() >= 2, 'the timer to read again')
    } finally {
      await deps.monitor.stop()
    }
  })
})

describe('/ready', () => {
  test('20 concurrent probes share one check; the next check is a second later', async () => {
    const { tiers, count } = counting(sys.tiers, READINESS)
    const clock = new StoppedClock()
    const app = createApp(makeDeps(tiers, { clock }))
    const probe = () => call({ ...sys, app }, 'GET', '/ready')
    expect((await probe()).status).toBe(200)
    const perCheck = count()
    expect(perCheck).toBeGreaterThan(0)
    clock.advance(1_000)
    const replies = await Promise.all(Array.from({ length: 20 }, probe))
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(count()).toBe(2 * perCheck)
    clock.advance(500)
    await Promise.all(Array.from({ length: 5 }, probe))
    expect(count()).toBe(2 * perCheck)
    clock.advance(500)
    await probe()
    expect(count()).toBe(3 * perCheck)
  })
})
