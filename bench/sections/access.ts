/**
 * What access control costs a request on PostgreSQL: resolving the key (what every request paid
 * before scopes and limits) against resolving it and spending a rate-limit token, with the
 * default lease (a tenth of a second's tokens per OLTP write) and with leases of one token (a
 * write per request, the worst case), from one process and from four sharing one key.
 */
import { newApiKey, newId } from '../../src/ids.ts'
import { SCOPES } from '../../src/scopes.ts'
import { authenticate } from '../../src/services/api-keys.ts'
import { RateLimiter, type Limits } from '../../src/services/rate-limits.ts'
import { insertApiKey } from '../../src/tiers/oltp/api-keys.ts'
import { insertTenant } from '../../src/tiers/oltp/tenants.ts'
import { benchDatabase, benchDeps } from '../lib/pg.ts'
import { median, percentile, round } from '../lib/stats.ts'
import type { Row, Section } from '../lib/report.ts'

interface Timing {
  per_s: number
  p50_us: number
  p99_us: number
}

/** `workers` loops issue `perWorker` requests each, concurrently; latency per request. */
async function measure(workers: number, perWorker: number, request: (worker: number) => Promise<unknown>): Promise<Timing> {
  const samples: number[] = []
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) {
        const s = performance.now()
        await request(w)
        samples.push((performance.now() - s) * 1000)
      }
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  return { per_s: Math.round(samples.length / seconds), p50_us: Math.round(median(samples)), p99_us: Math.round(percentile(samples, 99)) }
}

export async function benchAccess({ quick = false } = {}): Promise<Section> {
  const bench = await benchDatabase('edp_bench_access')
  try {
    const deps = benchDeps(bench.tiers)
    const tenant = await insertTenant(bench.tiers.oltp, newId(), 'access')
    const key = newApiKey()
    const row = await insertApiKey(bench.tiers.oltp, {
      id: newId(),
      tenantId: tenant.id,
      keyHash: key.hash,
      prefix: key.prefix,
      name: 'bench',
      scopes: SCOPES,
      expiresAt: null,
    })
    const n = quick ? 300 : 5000
    // A bucket big enough never to refuse: what is measured is the bookkeeping, not the waiting.
    const unbounded: Limits = { rate: 100, burst: 1_000_000_000 }
    const cases: { name: string; workers: number; limiter: (w: number) => Promise<unknown> }[] = []
    const limiters = Array.from({ length: 4 }, () => new RateLimiter(deps))
    const defaultLease = (w: number) => limiters[w]!.take(row.id, { ...unbounded, rate: 100 })
    const leaseOne = (w: number) => limiters[w]!.take(row.id, { ...unbounded, rate: 10 })
    cases.push({ name: 'default lease (rate/10 tokens per write)', workers: 1, limiter: defaultLease })
    cases.push({ name: 'lease of one token (a write per request)', workers: 1, limiter: leaseOne })
    cases.push({ name: '4 processes on one key, default lease', workers: 4, limiter: defaultLease })
    cases.push({ name: '4 processes on one key, lease of one', workers: 4, limiter: leaseOne })

    const rows: Row[] = []
    const data: Record<string, unknown> = {}
    for (const c of cases) {
      const baseline = await measure(c.workers, n, () => authenticate(deps, key.key))
      const ours = await measure(c.workers, n, async (w) => {
        await authenticate(deps, key.key)
        await c.limiter(w)
      })
      data[c.name] = { baseline, ours }
      rows.push({
        benchmark: 'access control',
        case: `key lookup + rate limit, ${c.name}`,
        ours: `${ours.per_s}/s; p50 ${ours.p50_us} µs, p99 ${ours.p99_us} µs`,
        baseline: `key lookup only ${baseline.per_s}/s; p50 ${baseline.p50_us} µs, p99 ${baseline.p99_us} µs`,
        ratio: round(ours.per_s / baseline.per_s, 2),
      })
    }
    return { name: 'access', rows, data }
  } finally {
    await bench.dispose()
  }
}
