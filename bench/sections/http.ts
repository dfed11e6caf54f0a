/**
 * The API's own latency and its use of the cores, on a small dataset of its own (no `npm run gen`):
 * one client fetching a 40-80 KB message, back to back on one keep-alive connection (wrk -c1) and
 * one request at a time with a pause between them on a new connection each (the way a lone
 * script or a page load asks), with the server's own time per request from its access log; and
 * 200 connections against one API process and against API_PROCESSES=2.
 */
import { buildPools, fill } from '../../datagen/bodies.ts'
import { httpFixture } from '../lib/fixtures.ts'
import { benchDatabase, databaseUrl } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { api, startServer } from '../lib/server.ts'
import { median, percentile, round } from '../lib/stats.ts'
import { hasWrk, wrk, type WrkRequest } from '../lib/wrk.ts'

const ms = (x: number) => `${round(x, 2)} ms`

/** Messages with an HTML body of 40-80 KB (and a 3 KB text part), as a campaign's newsletter might be. */
async function bigMessages(base: string, f: Awaited<ReturnType<typeof httpFixture>>, count: number): Promise<string[]> {
  const pools = buildPools(5, 20)
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const h = pools.html[i % pools.html.length]!
    const size = 40_000 + ((i * 7919) % 40_000)
    let html = ''
    for (let k = 0; html.length < size; k++) html += fill(h, h.raw, ['Ada', `tok${i}-${k}`])
    const m = await api(base, f.key, 'POST', '/v1/messages', {
      email_account_id: f.accountId,
      from_email: 'news@bench.test',
      to_email: `reader${i}@example.com`,
      subject: `Newsletter ${i}`,
      content_text: html.slice(0, 3000),
      content_html: html.slice(0, size),
    })
    ids.push(m.id)
  }
  return ids
}

/** One request at a time on a new connection each, `gapMs` apart: client-side times. */
async function spaced(base: string, key: string, ids: readonly string[], rounds: number, gapMs: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    await Bun.sleep(gapMs)
    const t0 = performance.now()
    const r = await fetch(`${base}/v1/messages/${ids[i % ids.length]}`, { headers: { authorization: `Bearer ${key}`, connection: 'close' } })
    await r.arrayBuffer()
    if (r.status !== 200) throw new Error(`fetch answered ${r.status}`)
    times.push(performance.now() - t0)
  }
  return times
}

export async function benchHttp({ quick = false } = {}): Promise<Section> {
  const seconds = quick ? 1 : 8
  const rows: Row[] = []
  const data: Record<string, unknown> = {}
  if (!hasWrk()) {
    rows.push({ benchmark: 'HTTP fetch', case: 'every case', ours: '–', baseline: '–', ratio: null, note: 'skipped: wrk is not installed (apt-get install wrk)' })
    return { name: 'http', rows, data }
  }
  const bench = await benchDatabase('edp_bench_http', 4)
  const url = databaseUrl('edp_bench_http')
  try {
    let requests: WrkRequest[] = []
    let key = ''
    let ids: string[] = []
    const one = await startServer(url, { WORKERS_IN_PROCESS: 'false', API_PROCESSES: '1' }, 'bin/start.ts', { accessLog: true })
    try {
      const f = await httpFixture(one.url, 0)
      key = f.key
      ids = await bigMessages(one.url, f, quick ? 5 : 50)
      requests = ids.map((id) => ({ path: `/v1/messages/${id}`, key }))
      await wrk(one.url, requests, 4, 1) // warm: pages, prepared statements, the key cache

      const mark = one.accessLog!.length
      const hot = await wrk(one.url, requests, 1, seconds)
      const hotServer = one.durations('/v1/messages/:id', mark)
      const mark2 = one.accessLog!.length
      const sparse = await spaced(one.url, key, ids, quick ? 10 : 100, 50)
      const sparseServer = one.durations('/v1/messages/:id', mark2)
      const summary = (xs: number[]) => ({ p50_ms: median(xs), p99_ms: percentile(xs, 99) })
      data.fetch = { back_to_back: hot, spaced: summary(sparse), server: { back_to_back: summary(hotServer), spaced: summary(sparseServer) } }
      rows.push(
        {
          benchmark: 'HTTP fetch, 1 client',
          case: '40-80 KB message, back to back on one keep-alive connection (wrk -c1) vs the server’s own time (access log)',
          ours: `p50 ${ms(hot.p50_ms)}, p99 ${ms(hot.p99_ms)}`,
          baseline: `p50 ${ms(median(hotServer))}, p99 ${ms(percentile(hotServer, 99))}`,
          ratio: median(hotServer) / hot.p50_ms,
          note: 'baseline: time inside the app, from the first middleware to the answer',
        },
        {
          benchmark: 'HTTP fetch, 1 client',
          case: '40-80 KB message, one request every 50 ms on a new connection vs the server’s own time',
          ours: `p50 ${ms(median(sparse))}, p99 ${ms(percentile(sparse, 99))}`,
          baseline: `p50 ${ms(median(sparseServer))}, p99 ${ms(percentile(sparseServer, 99))}`,
          ratio: median(sparseServer) / median(sparse),
          note: 'the server-side time grows when requests are spaced: each of its sequential queries wakes an idle backend',
        },
      )
      data.c200_n1 = await wrk(one.url, requests, 200, seconds)
    } finally {
      await one.stop()
    }
    const two = await startServer(url, { WORKERS_IN_PROCESS: 'false', API_PROCESSES: '2' })
    try {
      await wrk(two.url, requests, 4, 1)
      data.c200_n2 = await wrk(two.url, requests, 200, seconds)
    } finally {
      await two.stop()
    }
    const [n1, n2] = [data.c200_n1, data.c200_n2] as Awaited<ReturnType<typeof wrk>>[]
    rows.push({
      benchmark: 'HTTP fetch, 200 connections',
      case: '40-80 KB messages: API_PROCESSES=2 vs one API process (wrk -c200)',
      ours: `${Math.round(n2!.per_second)}/s, p99 ${ms(n2!.p99_ms)}`,
      baseline: `${Math.round(n1!.per_second)}/s, p99 ${ms(n1!.p99_ms)}`,
      ratio: n2!.per_second / n1!.per_second,
      note: `errors ${n1!.errors} / ${n2!.errors}; two cores shared by PostgreSQL, wrk and the API processes bound the gain`,
    })
  } finally {
    await bench.dispose()
  }
  return { name: 'http', rows, data }
}
