/**
 * The operator figures on /metrics beyond the queues: per tier reachability, pool use and call
 * durations, and the capacity read (database and table sizes, dead tuples, content bytes, prune
 * lag), which a scrape reads at most every METRICS_SLOW_REFRESH_S.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody } from '../support/api.ts'
import { StoppedClock } from '../support/clock.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { createApp } from '../../src/http/app.ts'
import { pruneBatch } from '../../src/services/prune.ts'

const sys = useSystem()

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('/metrics: tiers and capacity', () => {
  test('every tier is up with its pool figures; calls are timed per database', async () => {
    const clock = new StoppedClock()
    const deps = makeDeps(sys.tiers, { clock })
    const app = createApp(deps)
    const t = await createTenant({ ...sys, deps, app })
    expect((await call({ ...sys, deps, app }, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId) })).status).toBe(201)
    const text = (await call({ ...sys, deps, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })).body as string
    for (const tier of ['oltp', 'content', 'analytics', 'queue']) {
      expect({ tier, up: value(text, `edp_tier_up{tier="${tier}"}`) }).toEqual({ tier, up: 1 })
      expect(value(text, `edp_db_connections_max{tier="${tier}"}`)).toBeGreaterThanOrEqual(1)
      expect(value(text, `edp_db_connections_waiting{tier="${tier}"}`)).toBe(0)
    }
    const counts = [...text.matchAll(/^edp_db_query_duration_seconds_count\{db="([^"]+)"\} (\d+)$/gm)]
    expect(counts.length).toBeGreaterThan(0)
    expect(counts.reduce((n, m) => n + Number(m[2]), 0)).toBeGreaterThan(3)
    expect(value(text, 'edp_content_bytes{kind="raw"}')).toBeGreaterThan(0)
    expect([...text.matchAll(/^edp_db_size_bytes\{db="[^"]+"\} (\d+)$/gm)].every((m) => Number(m[1]) > 1_000_000)).toBe(true)
    expect(text).toMatch(/^edp_db_table_dead_tuples\{db="[^"]+",table="[a-z_]+\.[a-z_]+"\} \d+$/m)
    await deps.monitor.stop()
  })

  test('a table past its retention shows how far behind its prune is, read again only after METRICS_SLOW_REFRESH_S', async () => {
    const clock = new StoppedClock()
    const deps = makeDeps(sys.tiers, { clock, config: testConfig({ METRICS_SLOW_REFRESH_S: '60' }) })
    const app = createApp(deps)
    const scrape = async () => (await call({ ...sys, deps, app }, 'GET', '/metrics', { token: ADMIN_TOKEN })).body as string
    const overdue = async () => value(await scrape(), 'edp_prune_overdue_seconds{table="webhook_receipts"}')
    await pruneBatch(deps, { batch_size: 5_000 })
    expect(await overdue()).toBe(0)
    // A receipt 10 days past WEBHOOK_RECEIPT_RETENTION_DAYS (30).
    const tenant = await createTenant(sys)
    await sys.tiers.oltp.query(`INSERT INTO oltp.webhook_receipts (tenant_id, provider, event_id, created) VALUES ($1, 'ses', 'metrics-old', now() - interval '40 days')`, [tenant.id])
    clock.advance(30_000)
    expect(await overdue()).toBe(0) // still the capacity read of 30 s ago
    clock.advance(31_000)
    const behind = (await overdue())!
    expect(behind).toBeGreaterThan(9 * 86_400)
    expect(behind).toBeLessThan(11 * 86_400)
    await pruneBatch(deps, { batch_size: 5_000 })
    clock.advance(61_000)
    expect(await overdue()).toBe(0)
    await deps.monitor.stop()
  })
})
