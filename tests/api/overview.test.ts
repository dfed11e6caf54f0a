/**
 * GET /v1/admin/overview, what /dashboard polls: the figures the runtime and the tiers hold (queue
 * depth, dead letters and failed attempts the worker recorded, storage, backups), at a bounded
 * cost per poll (storage read at most once a minute, failures found through their own index), and
 * a part that cannot be read named instead of failing the whole answer. /dashboard itself is
 * public, static, and locked down by its Content-Security-Policy.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Db } from '../../src/db/types.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { createApp } from '../../src/http/app.ts'
import { freshnessState } from '../../src/services/overview.ts'
import { listDeadLetters, newestDeadLetters } from '../../src/tiers/queue/dead-letters.ts'
import { recentFailures } from '../../src/tiers/queue/job-logs.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { TestClock } from '../support/clock.ts'
import { emptyQueues, runVisible } from '../support/queues.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem, type TestSystem } from '../support/system.ts'

const sys = useSystem()
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** A fresh app (its own monitor and storage cache) over the test tiers, so it reads what the test just wrote. */
function freshApp(o: { tiers?: Tiers; config?: ReturnType<typeof testConfig>; clock?: TestClock } = {}): TestSystem {
  const deps = makeDeps(o.tiers ?? sys.tiers, { config: o.config, clock: o.clock })
  return { ...sys, deps, app: createApp(deps) }
}

const overview = async (s: TestSystem = freshApp()) => {
  const r = await call(s, 'GET', '/v1/admin/overview', { token: ADMIN_TOKEN })
  expect(r.status).toBe(200)
  return r.body
}

/** The test tiers, with statements matching `match` counted or made to fail. */
function wrapped(match: RegExp, fail = false): { tiers: Tiers; count: () => number } {
  let n = 0
  const wrap = (db: Db): Db => ({
    ...db,
    query: (text, params) => {
      if (match.test(text)) {
        n++
        if (fail) return Promise.reject(new Error('the queue tier went away'))
      }
      return db.query(text, params)
    },
  })
  const byDb = new Map([...new Set(TIER_NAMES.map((t) => sys.tiers[t]))].map((db) => [db, wrap(db)]))
  const dbs = Object.fromEntries(TIER_NAMES.map((t) => [t, byDb.get(sys.tiers[t])!])) as Record<TierName, Db>
  return { tiers: tiersFrom(dbs), count: () => n }
}

const HOSTILE_JOB = '<img src=x onerror=alert(1)>'

describe('GET /v1/admin/overview', () => {
  test('needs the admin token: none, a tenant key or a wrong token answer 401', async () => {
    const tenant = await createTenant(sys, 'overview-auth')
    for (const token of [undefined, tenant.key, `${ADMIN_TOKEN}x`]) {
      const r = await call(sys, 'GET', '/v1/admin/overview', { token })
      expect(r.status).toBe(401)
      expect(r.body.type).toBe('urn:edp:problem:unauthorized')
    }
  })

  test('queue depth, dead letters and failed attempts are what the worker recorded', async () => {
    await emptyQueues(sys.tiers)
    await sys.tiers.queue.exec(`TRUNCATE queue.job_logs; SELECT pgmq.purge_queue('${QUEUES.deadLetters}')`)
    // A job no handler knows dies on its first attempt; its name is whatever the producer wrote.
    await send(sys.tiers.queue, QUEUES.jobs, { job: HOSTILE_JOB, payload: {} })
    await runVisible(sys)
    // Three messages hidden for an hour: the depth stands still while the test reads it.
    for (let i = 0; i < 3; i++) await send(sys.tiers.queue, QUEUES.jobs, { job: 'content.expire', payload: { batch_size: 1 } }, 3600)

    const o = await overview()
    const jobs = o.queues.find((q: any) => q.queue === 'jobs')
    expect(jobs).toMatchObject({ depth: 3, dead_letters: 1 })
    expect(o.queues.find((q: any) => q.queue === 'events')).toMatchObject({ depth: 0, dead_letters: 0 })
    expect(o.dead_letters.total).toBe(1)
    expect(o.dead_letters.newest).toEqual([
      expect.objectContaining({ queue: 'jobs', job: HOSTILE_JOB, error: `unknown job ${HOSTILE_JOB}`, failed_at: expect.any(String) }),
    ])
    expect(o.recent_failures).toEqual([
      expect.objectContaining({ queue: 'jobs', job: HOSTILE_JOB, attempt: 1, outcome: 'dead', error: `unknown job ${HOSTILE_JOB}` }),
    ])
    expect(o.tiers).toEqual({ oltp: { ok: true }, content: { ok: true }, analytics: { ok: true }, queue: { ok: true } })
    expect(o.ready).toBe(true)
    expect(o.analytics.state).toBe(freshnessState(o.analytics.freshness_seconds))
    expect(o.unavailable).toEqual([])
  })

  test('the lists are the newest 20, newest first', async () => {
    await sys.tiers.queue.exec(`TRUNCATE queue.job_logs; SELECT pgmq.purge_queue('${QUEUES.deadLetters}')`)
    await emptyQueues(sys.tiers)
    for (let i = 0; i < 23; i++) await send(sys.tiers.queue, QUEUES.jobs, { job: `no.such.job.${i}`, payload: {} })
    await runVisible(sys)
    const o = await overview()
    expect(o.dead_letters.total).toBe(23)
    // Newest is the order they died in (a batch settles together), which the ids record.
    const byIdDesc = (ids: string[]) => ids.map(BigInt).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)).map(String)
    const allDead = (await listDeadLetters(sys.tiers.queue, { limit: 100 })).map((d) => String(d.msg_id))
    expect(o.dead_letters.newest.map((d: any) => d.msg_id)).toEqual(byIdDesc(allDead).slice(0, 20))
    const allLogs = (await sys.tiers.queue.query<{ id: string }>(`SELECT id::text AS id FROM queue.job_logs`)).map((r) => r.id)
    expect(allLogs).toHaveLength(23)
    expect(o.recent_failures.map((f: any) => f.id)).toEqual(byIdDesc(allLogs).slice(0, 20))
    expect(new Set(o.recent_failures.map((f: any) => f.job)).size).toBe(20)
  })

  test('storage: each tier on disk and the content report, read at most once a minute', async () => {
    const tenant = await createTenant(sys, 'overview-storage')
    const clock = new TestClock()
    const { tiers, count } = wrapped(/FROM content\.content_objects/)
    const app = freshApp({ tiers, clock })
    const before = await call(sys, 'GET', '/v1/admin/storage', { token: ADMIN_TOKEN })
    const first = await overview(app)
    expect(first.storage.content).toEqual(before.body)
    for (const tier of TIER_NAMES) expect(first.storage.tier_bytes[tier]).toBeGreaterThan(0)
    const reads = count()

    expect((await call(sys, 'POST', '/v1/messages', { token: tenant.key, body: messageBody(tenant.accountId, { content_html: '<p>x</p>'.repeat(300) }) })).status).toBe(201)
    clock.advance(59_000)
    const cached = await overview(app)
    expect(cached.storage).toEqual(first.storage)
    expect(count()).toBe(reads)

    clock.advance(1_000)
    const again = await overview(app)
    expect(again.storage.content.objects).toBe(first.storage.content.objects + 1)
    expect(again.storage.content.raw_bytes).toBeGreaterThan(first.storage.content.raw_bytes + 2000)
    expect(count()).toBe(2 * reads)
  })

  test('backups: the newest sets in BACKUP_DIR, an incomplete one as such; none without BACKUP_DIR', async () => {
    const root = await mkdtemp(join(tmpdir(), 'edp-overview-backups-'))
    dirs.push(root)
    const finished = '2026-03-04T11:23:12.604Z'
    await mkdir(join(root, 'set-2026-03-04T11-23-00.000Z'))
    await writeFile(join(root, 'set-2026-03-04T11-23-00.000Z', 'manifest.json'), JSON.stringify({ format: 1, finished_at: finished, files: [] }))
    await mkdir(join(root, 'set-2026-03-04T11-38-00.000Z')) // still being written: no manifest yet
    const o = await overview(freshApp({ config: testConfig({ BACKUP_DIR: root }) }))
    expect(o.backups.configured).toBe(true)
    expect(o.backups.sets).toEqual([
      { name: 'set-2026-03-04T11-38-00.000Z', finished_at: null },
      { name: 'set-2026-03-04T11-23-00.000Z', finished_at: finished },
    ])
    expect(o.backups.newest_age_seconds).toBeCloseTo((Date.now() - Date.parse(finished)) / 1000, -1)

    expect((await overview()).backups).toEqual({ configured: false, newest_age_seconds: null, sets: [] })
  })

  test('a part that cannot be read is null and named; the rest answers', async () => {
    const { tiers, count } = wrapped(/outcome <> 'succeeded'/, true)
    const o = await overview(freshApp({ tiers }))
    expect(count()).toBe(1)
    expect(o.recent_failures).toBeNull()
    expect(o.unavailable).toEqual(['recent_failures'])
    expect(o.queues.map((q: any) => q.queue)).toEqual(['jobs', 'events'])
    expect(o.storage.content.objects).toBeGreaterThanOrEqual(0)
  })

  test('freshness state: fresh within the 5 s target, lagging within the seed’s 30 s, stale beyond', () => {
    expect([null, 0, 5, 5.1, 30, 30.1].map(freshnessState)).toEqual(['unknown', 'fresh', 'fresh', 'lagging', 'lagging', 'stale'])
  })
})

/** Runs a tier query under EXPLAIN with sequential scans priced out. */
async function planOf(db: Db, run: (q: Db) => Promise<unknown>): Promise<string> {
  let captured: { text: string; params: readonly unknown[] } | undefined
  await run({ ...db, query: async (text: string, params: readonly unknown[] = []) => ((captured = { text, params }), []) } as Db)
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off')
    const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured!.text}`, captured!.params)
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  })
}

describe('the lists read an index, never the whole log', () => {
  test('newest failures: a backward scan of the partial index of failed attempts, no sort', async () => {
    const plan = await planOf(sys.tiers.queue, (q) => recentFailures(q, 20))
    expect(plan).toMatch(/Index Scan Backward using job_logs_failures /)
    expect(plan).not.toMatch(/Sort/)
  })

  test('newest dead letters: a backward scan of the queue’s primary key, no sort', async () => {
    const plan = await planOf(sys.tiers.queue, (q) => newestDeadLetters(q, 20))
    expect(plan).toMatch(/Index Scan Backward using q_dead_letters_pkey /)
    expect(plan).not.toMatch(/Sort/)
  })
})

describe('GET /dashboard', () => {
  test('public static files under a CSP of this origin only, nothing inline; an ETag answers 304', async () => {
    const page = await call(sys, 'GET', '/dashboard')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = page.headers.get('content-security-policy') ?? ''
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(d)
    expect(csp).not.toContain('unsafe')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    // No inline script or style for the CSP to have to allow; every asset from this origin.
    const html = page.body as string
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(html).not.toMatch(/\sstyle=|<style/)
    expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual(['/dashboard/icon.svg', '/dashboard/app.css', '/dashboard/app.js'])

    const assets: [string, string][] = [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/app.css', 'text/css; charset=utf-8'],
      ['/dashboard/icon.svg', 'image/svg+xml'],
    ]
    for (const [path, type] of assets) {
      const r = await call(sys, 'GET', path)
      expect({ path, status: r.status, type: r.headers.get('content-type') }).toEqual({ path, status: 200, type })
      const etag = r.headers.get('etag')!
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
      expect((await call(sys, 'GET', path, { headers: { 'if-none-match': etag } })).status).toBe(304)
    }
  })

  test('the script never writes markup: no innerHTML, outerHTML, insertAdjacentHTML or document.write', async () => {
    const script = await readFile(join(import.meta.dir, '../../src/http/dashboard/app.js'), 'utf8')
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/)
    expect(script).toContain('textContent')
  })
})
