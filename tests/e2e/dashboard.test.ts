/**
 * The operator dashboard in a real browser (Debian's headless Chromium, driven by playwright-core)
 * against the real server as a child process with its workers: embedded PGlite, or server mode on
 * the four PostgreSQL test databases. Before it starts, the queue is given a job no handler knows,
 * named like markup, which the workers dead-letter, and two jobs delayed by an hour, so the jobs
 * queue's depth stands still. The page must show what /v1/admin/overview answers at that moment
 * (depth, dead letters, freshness state, storage, backups), write the hostile name as text, draw
 * its charts from successive polls, refuse a wrong token with a message, and break no CSP rule.
 * A screenshot goes to .cache/dashboard.png.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { pgliteDataDir } from '../../src/data-dir.ts'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import type { Queryable } from '../../src/db/types.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { spawnChild, ROOT, type Child } from '../support/child.ts'
import { engine, migratedSnapshot } from '../support/databases.ts'
import { eventually } from '../support/eventually.ts'
import { tierUrlEnv, useSystem } from '../support/system.ts'

// The functions given to page.evaluate run in the browser; the project compiles without the DOM
// library, so these names are declared for this file alone.
declare const document: any
declare const window: any
declare const sessionStorage: any

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ADMIN = 'dashboard-test-admin-token-0123456789'
/** Runs if the page ever parses it as markup: the test then finds window.__pwned or an <img>. */
const HOSTILE_JOB = '<img src=x onerror="window.__pwned=1">'
const SCREENSHOT = join(ROOT, '.cache', 'dashboard.png')

const sys = useSystem() // PostgreSQL: empty test databases for the child to serve
const cleanup: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
})

/** What the workers find when they start: a job to dead-letter, and two that wait an hour. */
async function seedQueue(q: Queryable) {
  await send(q, QUEUES.jobs, { job: HOSTILE_JOB, payload: {} })
  for (let i = 0; i < 2; i++) await send(q, QUEUES.jobs, { job: 'content.expire', payload: { batch_size: 1 } }, 3600)
}

async function startServer(): Promise<Child & { url: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'edp-dashboard-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const env: Record<string, string> = {
    ADMIN_TOKEN: ADMIN,
    PORT: '0',
    LOG_LEVEL: 'info',
    METRICS_REFRESH_S: '1',
    BACKUP_DIR: join(dir, 'backups'),
    DATA_DIR: join(dir, 'data'),
  }
  if (engine === 'pglite') {
    // The migrated snapshot, loaded where the server will open it: no initdb or migrations at start.
    const db = pgliteDb(await openPglite({ dataDir: await pgliteDataDir(env.DATA_DIR!), loadDataDir: await migratedSnapshot() }))
    await seedQueue(db)
    await db.close()
  } else {
    await seedQueue(sys.tiers.queue)
    // One API process: the page and this test compare storage figures each process caches for a
    // minute, and two processes (the server-mode default on two cores) each keep their own copy.
    Object.assign(env, await tierUrlEnv(), { WORKERS_IN_PROCESS: 'true', API_PROCESSES: '1' })
  }
  const child = spawnChild('bin/start.ts', env)
  cleanup.push(async () => {
    child.proc.kill('SIGTERM')
    await child.proc.exited
  })
  try {
    const line = await child.waitFor((l) => l.includes('"api listening"'), 60_000)
    return { ...child, url: JSON.parse(line).url.replace(/\/$/, '') }
  } catch (err) {
    child.proc.kill('SIGKILL')
    throw new Error(`server did not start: ${(err as Error).message}\n${await child.stderr()}`)
  }
}

async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the dashboard is tested in a real browser. Install Debian's ` +
        '(apt-get install -y --no-install-recommends chromium chromium-driver) or set CHROMIUM_PATH.',
    )
  }
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM })
}

const countText = (n: number) => n.toLocaleString('en-US')

/** The figures the page shows now, read from the DOM. */
function shown(page: Page) {
  return page.evaluate(() => {
    const text = (sel: string) => document.querySelector(sel)?.textContent ?? null
    const value = (sel: string) => document.querySelector(sel)?.getAttribute('data-value') ?? null
    const queues = [...document.querySelectorAll('#queue-rows tr')].map((tr) => ({
      queue: tr.getAttribute('data-queue'),
      depth: tr.querySelector('[data-col=depth]')?.textContent,
      dead: tr.querySelector('[data-col=dead]')?.textContent,
    }))
    const tierBytes = Object.fromEntries([...document.querySelectorAll('[data-tier-bytes]')].map((d) => [d.getAttribute('data-tier-bytes'), Number(d.getAttribute('data-value'))]))
    return {
      queues,
      deadTotal: text('[data-field="dead.total"]'),
      freshness: text('[data-field="analytics.state"]'),
      objects: text('[data-field="storage.objects"]'),
      storedBytes: Number(value('[data-field="storage.stored_bytes"]')),
      storedText: text('[data-field="storage.stored_bytes"]'),
      tierBytes,
      tiers: [...document.querySelectorAll('#tiers li')].map((li) => `${li.getAttribute('data-tier')}:${li.className}`),
      backupSets: [...document.querySelectorAll('#backup-sets code')].map((c) => c.textContent),
      failureJobs: [...document.querySelectorAll('#failure-rows tr')].map((tr) => tr.children[2]?.textContent),
      deadJobs: [...document.querySelectorAll('#dead-rows tr')].map((tr) => tr.children[2]?.textContent),
    }
  })
}

/** The same figures as the API states them, formatted the way the page formats them. */
function expected(o: any) {
  const kib = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`)
  return {
    queues: o.queues.map((q: any) => ({ queue: q.queue, depth: countText(q.depth), dead: countText(q.dead_letters) })),
    deadTotal: countText(o.dead_letters.total),
    freshness: o.analytics.state,
    objects: countText(o.storage.content.objects),
    storedBytes: o.storage.content.stored_bytes,
    storedText: kib(o.storage.content.stored_bytes),
    tierBytes: o.storage.tier_bytes,
    tiers: Object.entries(o.tiers).map(([t, s]: [string, any]) => `${t}:${s.ok ? 'ok' : 'bad'}`),
    backupSets: o.backups.sets.map((s: any) => s.name),
    failureJobs: o.recent_failures.map((f: any) => f.job),
    deadJobs: o.dead_letters.newest.map((d: any) => d.job),
  }
}

describe('the operator dashboard', () => {
  test('shows what the overview API answers, as text; refuses a wrong token with a message', async () => {
    const browser = await launchChromium()
    cleanup.push(() => browser.close())
    const server = await startServer()
    const api = async (path: string, token: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as any }
    }

    // Some traffic: a tenant, three messages with bodies, an event.
    const tenant = await api('/v1/tenants', ADMIN, { name: 'Dashboard & <Co>' })
    expect(tenant.status).toBe(201)
    const key = tenant.body.api_key
    const account = await api('/v1/email-accounts', key, { email_address: 'ops@dash.test' })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const m = await api('/v1/messages', key, {
        email_account_id: account.body.id,
        from_email: 'ops@dash.test',
        to_email: `lead${i}@example.com`,
        subject: `hello ${i}`,
        content_html: `<p>${'numbers on a dashboard '.repeat(80)}${i}</p>`,
      })
      expect(m.status).toBe(201)
      ids.push(m.body.id)
    }
    const occurred_at = new Date().toISOString()
    expect((await api('/v1/events', key, { events: [{ event_id: 'dash-1', message_id: ids[0], type: 'opened', occurred_at }] })).status).toBe(202)

    // The workers have dead-lettered the unknown job, drained the rest, and taken the first backup.
    const overview = async () => (await api('/v1/admin/overview', ADMIN)).body
    await eventually(async () => {
      const o = await overview()
      const depth = Object.fromEntries(o.queues.map((q: any) => [q.queue, q.depth]))
      return o.dead_letters.total === 1 && depth.jobs === 2 && depth.events === 0 && o.backups.sets[0]?.finished_at && o.analytics.state === 'fresh'
    }, 'the workers to settle and the first backup', 40_000)

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.addInitScript(() => {
      const w = window as any
      w.__csp = []
      document.addEventListener('securitypolicyviolation', (e: any) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`))
    })
    await page.goto(`${server.url}/dashboard?interval=1`)

    // A wrong token: an error on the sign-in form, no board, nothing kept.
    await page.fill('#token', 'not-the-admin-token-at-all')
    await page.click('button[type=submit]')
    await page.waitForSelector('#login-error:not([hidden])')
    expect(await page.textContent('#login-error')).toContain('refused (401)')
    expect(await page.isHidden('#board')).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    // The right one: the board, polled every second.
    await page.fill('#token', ADMIN)
    await page.click('button[type=submit]')
    await page.waitForFunction(() => /\b([3-9]|\d{2,}) polls\b/.test(document.querySelector('[data-field="poll"]')?.textContent ?? ''), null, { timeout: 20_000 })

    // What the page shows equals what the API answers right after the page's poll (retried while a
    // poll and the API read straddle a change: maintenance jobs pass through the queues).
    let last: unknown
    await eventually(async () => {
      const [onPage, fromApi] = [await shown(page), expected(await overview())]
      last = { onPage, fromApi }
      return JSON.stringify(onPage) === JSON.stringify(fromApi)
    }, 'the page to show the API’s figures', 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(last, null, 2)}`)
    })
    const figures = await shown(page)
    expect(figures.queues.find((q) => q.queue === 'jobs')).toEqual({ queue: 'jobs', depth: '2', dead: '1' })
    expect(figures.deadTotal).toBe('1')
    expect(figures.freshness).toBe('fresh')
    expect(figures.objects).toBe('3')
    expect(figures.tiers).toEqual(['oltp:ok', 'content:ok', 'analytics:ok', 'queue:ok'])
    expect(figures.backupSets.length).toBeGreaterThanOrEqual(1)

    // The hostile job name is text in both lists; nothing in it ran, and the CSP was never tested.
    expect(figures.deadJobs).toEqual([HOSTILE_JOB])
    expect(figures.failureJobs).toContain(HOSTILE_JOB)
    expect(await page.evaluate(() => ({ pwned: (window as any).__pwned ?? null, images: document.images.length, csp: (window as any).__csp }))).toEqual({
      pwned: null,
      images: 0,
      csp: [],
    })
    expect(errors).toEqual([])

    // Charts: a point per poll so far; an empty queue has no oldest message, so its age chart has none.
    const points = await page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll('svg.spark')].map((s) => [s.getAttribute('data-chart'), Number(s.getAttribute('data-points'))])),
    )
    expect(Object.keys(points).sort()).toEqual(['depth:events', 'depth:jobs', 'freshness', 'oldest:events', 'oldest:jobs'])
    for (const chart of ['depth:events', 'depth:jobs', 'oldest:jobs']) expect({ chart, enough: points[chart]! >= 3 }).toEqual({ chart, enough: true })
    // Freshness is unknown (no point) in a poll whose snapshot was read while the views had no
    // watermark yet: seen once in CI on a loaded machine. It must still be drawn.
    expect(points.freshness).toBeGreaterThanOrEqual(1)
    expect(points['oldest:events']).toBe(0)

    await mkdir(join(ROOT, '.cache'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })

    // Signing out forgets the token.
    await page.click('#sign-out')
    expect(await page.isVisible('#login-form')).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await context.close()
  }, 90_000)
})
