/**
 * The restore drill, on the engine under test: write messages (bodies, headers, attachments),
 * events and a retention policy; take a backup set; restore it into empty databases (PostgreSQL)
 * or a fresh DATA_DIR (PGlite); the doctor finds nothing and every message reads back byte for
 * byte, with the same analytics and policy. A non-empty target is refused without --force, and a
 * damaged set is refused before anything is written.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, createTenant, messageBody } from '../support/api.ts'
import { createPgDatabase, dropPgDatabases, engine } from '../support/databases.ts'
import { drainQueues } from '../support/queues.ts'
import { makeDeps, testConfig, testDatabases, useSystem, type TestSystem } from '../support/system.ts'
import type { Config } from '../../src/config.ts'
import { openTiers } from '../../src/db/tiers.ts'
import { createApp } from '../../src/http/app.ts'
import { backupSets, readManifest, restoreBackup, takeBackup } from '../../src/services/backup.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { maintenance } from '../../workers/schedule.ts'
import { TestClock } from '../support/clock.ts'
import { ADMIN_TOKEN } from '../support/system.ts'
import { runDoctor } from '../../src/services/doctor.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
})

const tempDir = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The configuration naming the databases under test (PostgreSQL), or none (PGlite: the live instance). */
async function sourceConfig(): Promise<Config> {
  if (engine === 'pglite') return sys.deps.config
  const { urls } = await testDatabases()
  return testConfig({ OLTP_DATABASE_URL: urls!.oltp, CONTENT_DATABASE_URL: urls!.content, ANALYTICS_DATABASE_URL: urls!.analytics, QUEUE_DATABASE_URL: urls!.queue })
}

/** Four empty databases (PostgreSQL) or a fresh DATA_DIR (PGlite) to restore into. */
async function emptyTarget(): Promise<Config> {
  if (engine === 'pglite') return testConfig({ DATA_DIR: await tempDir('edp-restore-') })
  const prefix = `edp_restore_${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const names = ['oltp', 'content', 'analytics', 'queue'].map((t) => `${prefix}_${t}`)
  const urls = await Promise.all(names.map((n) => createPgDatabase(n)))
  cleanups.push(() => dropPgDatabases(names))
  return testConfig({ OLTP_DATABASE_URL: urls[0], CONTENT_DATABASE_URL: urls[1], ANALYTICS_DATABASE_URL: urls[2], QUEUE_DATABASE_URL: urls[3] })
}

/** Everything a client can read back about a tenant's messages, for a byte-for-byte comparison. */
async function readBack(s: Pick<TestSystem, 'app'>, key: string, ids: string[], campaignId: string) {
  const get = async (path: string) => {
    const res = await s.app.request(path, { headers: { authorization: `Bearer ${key}` } })
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()).toString('base64') }
  }
  const out: Record<string, unknown> = {}
  for (const id of ids) {
    out[id] = await get(`/v1/messages/${id}`)
    out[`${id}/content`] = await get(`/v1/messages/${id}/content`)
    const detail = JSON.parse(Buffer.from((out[id] as { bytes: string }).bytes, 'base64').toString())
    for (const a of detail.attachments) out[`${id}/${a.id}`] = await get(`/v1/messages/${id}/attachments/${a.id}`)
  }
  const analytics = JSON.parse(Buffer.from((await get(`/v1/analytics/campaigns/${campaignId}`)).bytes, 'base64').toString())
  out.analytics = { sent: analytics.sent, opened: analytics.opened, bounced: analytics.bounced, bounce_reasons: analytics.bounce_reasons }
  out.policy = await get('/v1/retention-policy')
  return out
}

describe(`backup and restore (${engine})`, () => {
  test('the restore drill: doctor clean, every message byte for byte; a non-empty target refused without --force; a damaged set refused', async () => {
    const t = await createTenant(sys)
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'drill' } })
    const pdf = Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 251))
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const m = await call(sys, 'POST', '/v1/messages', {
        token: t.key,
        body: messageBody(t.accountId, {
          campaign_id: campaign.body.id,
          subject: `Drill ${i} — ünïcödé`,
          content_text: `Body ${i} `.repeat(400),
          content_html: `<p>Body ${i}</p>`.repeat(300),
          headers: [{ name: 'X-Drill', value: String(i) }, { name: 'X-Drill', value: 'twice' }],
          attachments: i % 2 ? [{ filename: `doc-${i}.pdf`, mime_type: 'application/pdf', content_base64: pdf.toString('base64') }] : [],
        }),
      })
      expect(m.status).toBe(201)
      ids.push(m.body.id)
    }
    const now = new Date().toISOString()
    await call(sys, 'POST', '/v1/events', {
      token: t.key,
      body: { events: [{ event_id: 'drill-open', message_id: ids[0], type: 'opened', occurred_at: now }, { event_id: 'drill-bounce', message_id: ids[1], type: 'bounced', occurred_at: now, metadata: { reason: 'user_unknown' } }] },
    })
    const policy = { content_ttl_days: { outbound: 30, inbound: null, transactional: 7, notification: 1 }, attachments_ttl_days: 14, archive_after_days: null }
    expect((await call(sys, 'PUT', '/v1/retention-policy', { token: t.key, body: policy })).status).toBe(200)
    await drainQueues(sys)
    const before = await readBack(sys, t.key, ids, campaign.body.id)
    expect((before.analytics as { sent: number }).sent).toBe(5)

    const set = join(await tempDir('edp-backup-'), 'set')
    const manifest = await takeBackup(await sourceConfig(), sys.tiers, set)
    expect(manifest.files.map((f) => f.tiers)).toEqual(engine === 'pglite' ? [['oltp', 'content', 'analytics', 'queue']] : [['oltp'], ['content'], ['analytics'], ['queue']])
    for (const f of manifest.files) expect(f.migrations.oltp?.length ?? f.migrations[f.tiers[0]!]!.length).toBeGreaterThan(0)
    expect(JSON.stringify(manifest)).not.toMatch(/postgres:\/\/[^@]*:[^@]*@/)

    const target = await emptyTarget()
    await restoreBackup(set, { config: target })
    const tiers = await openTiers(target, 'edp-restore-test')
    try {
      const restoredDeps = makeDeps(tiers, { config: target })
      const report = await runDoctor(restoredDeps, { full: true })
      expect(report.checks.filter((c) => c.violations > 0)).toEqual([])
      expect(report.checks.find((c) => c.name === 'refs_without_content')!.checked).toBeGreaterThanOrEqual(5)
      const after = await readBack({ app: createApp(restoredDeps) }, t.key, ids, campaign.body.id)
      expect(after).toEqual(before)

      // The target is no longer empty: a second restore is refused, and changes nothing.
      await expect(restoreBackup(set, { config: target })).rejects.toThrow(/not empty/)
      expect((await runDoctor(restoredDeps, {})).ok).toBe(true)
    } finally {
      // Closed here: the file's leak check runs before its last afterAll.
      await tiers.close()
    }

    // One flipped byte: refused before any target is touched.
    const damaged = join(set, manifest.files[0]!.file)
    const bytes = await readFile(damaged)
    const middle = bytes.length >> 1
    bytes[middle] = bytes[middle]! ^ 0xff
    await writeFile(damaged, bytes)
    await expect(readManifest(set)).rejects.toThrow(/damaged/)
    await expect(restoreBackup(set, { config: await emptyTarget() })).rejects.toThrow(/damaged/)
  }, 120_000)
})

describe(`scheduled backups (${engine})`, () => {
  test('BACKUP_DIR schedules a set every BACKUP_INTERVAL_MIN; the job keeps the newest BACKUP_KEEP; /metrics shows the newest set’s age', async () => {
    expect(maintenance(testConfig()).map((s) => s.job)).not.toContain('maintenance.backup')
    const root = await tempDir('edp-sets-')
    const config = testConfig({ ...(await sourceConfigOverrides()), BACKUP_DIR: root, BACKUP_INTERVAL_MIN: '15', BACKUP_KEEP: '2' })
    expect(maintenance(config).find((s) => s.job === 'maintenance.backup')).toMatchObject({ everySeconds: 900 })

    const clock = new TestClock()
    const deps = makeDeps(sys.tiers, { config, clock })
    const s2 = { ...sys, deps, app: createApp(deps) }
    expect(await (await s2.app.request('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()).not.toContain('edp_backup_newest_age_seconds ')
    for (let i = 0; i < 3; i++) {
      await enqueue(sys.tiers.queue, 'maintenance.backup', {})
      await drainQueues(s2)
      clock.advance(15 * 60_000)
    }
    const sets = await backupSets(root)
    expect(sets).toHaveLength(2)
    expect(sets.every((x) => x.finished_at !== null)).toBe(true)
    for (const x of sets) await readManifest(x.dir)
    const metrics = await (await s2.app.request('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()
    const age = Number(/^edp_backup_newest_age_seconds (\S+)$/m.exec(metrics)?.[1])
    // The clock ran 15 minutes past the last set.
    expect(age).toBeGreaterThan(14 * 60)
    expect(age).toBeLessThan(16 * 60)
    await deps.monitor.stop()
  }, 120_000)
})

async function sourceConfigOverrides(): Promise<Record<string, string>> {
  if (engine === 'pglite') return {}
  const { urls } = await testDatabases()
  return { OLTP_DATABASE_URL: urls!.oltp, CONTENT_DATABASE_URL: urls!.content, ANALYTICS_DATABASE_URL: urls!.analytics, QUEUE_DATABASE_URL: urls!.queue }
}
