/**
 * The life of the content keys: master-key rotation re-wraps every data key and touches no
 * content; deleting a tenant destroys its key before any row goes, so a deletion killed right
 * after leaves rows nobody can decrypt; rows written before encryption are sealed in place by
 * the upgrade job, reading the same before, during and after.
 */
import { describe, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fingerprintOf, masterKeyPath, previousMasterKeyPath, resolveMasterKeys } from '../../src/content-master-key.ts'
import { createApp } from '../../src/http/app.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { KeyUnavailable } from '../../src/services/content-keys.ts'
import { openStored } from '../../src/services/content-seal.ts'
import { rewrapAll } from '../../src/services/key-rotation.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { unsealedCounts } from '../../src/tiers/content/unsealed.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { ROOT } from '../support/child.ts'
import { faultyDb } from '../support/faults.ts'
import { captureLogs } from '../support/logs.ts'
import { drainQueues } from '../support/queues.ts'
import { searchTiers } from '../support/search.ts'
import { ADMIN_TOKEN, makeDeps, TEST_MASTER_KEY, testConfig, useSystem, type TestSystem } from '../support/system.ts'

const config = testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
const sys = useSystem(config)
const NEW_KEY = Buffer.alloc(32, 9).toString('base64')
const fp = (k: string) => fingerprintOf(Buffer.from(k, 'base64'))

function systemWith(overrides: Record<string, string>, opts: { sealContent?: boolean } = {}) {
  const logs = captureLogs('error')
  const deps = makeDeps(sys.tiers, { config: testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0', ...overrides }), log: logs.log, ...opts })
  return { tiers: sys.tiers, deps, app: createApp(deps), logs }
}

async function send(s: TestSystem, t: TenantFixture, text: string, extra: Record<string, unknown> = {}) {
  const r = await call(s, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: text, ...extra }) })
  expect(r.status).toBe(201)
  return r.body as { id: string; content_storage_key: string }
}

const contentOf = async (s: TestSystem, t: TenantFixture, id: string) => {
  const r = await call(s, 'GET', `/v1/messages/${id}/content`, { token: t.key })
  return r.status === 200 ? r.body.content_text : r.status
}

const storedBytes = (keys: string[]) =>
  sys.tiers.content.query<{ storage_key: string; content_text_packed: Uint8Array; nonce: Uint8Array }>(
    `SELECT storage_key, content_text_packed, nonce FROM content.content_objects WHERE storage_key = ANY($1::text[]) ORDER BY storage_key`,
    [keys],
  )

describe('master-key rotation', () => {
  test('re-wraps every data key without touching content; reads work during and after; the old key no longer opens them', async () => {
    const t = await createTenant(sys, 'rotate')
    const m = await send(sys, t, 'kept through rotation')
    const before = await storedBytes([m.content_storage_key])
    const both = systemWith({ CONTENT_MASTER_KEY: NEW_KEY, CONTENT_MASTER_KEY_PREVIOUS: TEST_MASTER_KEY })
    expect(await contentOf(both, t, m.id)).toBe('kept through rotation') // during: the previous key opens what is not re-wrapped yet
    try {
      const done = await rewrapAll(sys.tiers.content, await resolveMasterKeys(both.deps.config), 2)
      expect(done.unknown).toEqual([])
      expect(done.rewrapped).toBeGreaterThanOrEqual(1)
      const keys = await sys.tiers.content.query<{ master_fingerprint: string | null }>(
        `SELECT DISTINCT master_fingerprint FROM content.tenant_keys WHERE wrapped_key IS NOT NULL`,
      )
      expect(keys).toEqual([{ master_fingerprint: fp(NEW_KEY) }])
      expect(await storedBytes([m.content_storage_key])).toEqual(before) // not one content byte rewritten
      expect(await contentOf(systemWith({ CONTENT_MASTER_KEY: NEW_KEY }), t, m.id)).toBe('kept through rotation')
      const old = systemWith({ CONTENT_MASTER_KEY: TEST_MASTER_KEY })
      expect(await contentOf(old, t, m.id)).toBe(503)
      expect(old.logs.lines.some((l) => String(l.problem).includes(`wrapped by master ${fp(NEW_KEY)}`))).toBe(true)
    } finally {
      // Back under the key every other test seals with.
      const back = await rewrapAll(sys.tiers.content, await resolveMasterKeys(testConfig({ CONTENT_MASTER_KEY_PREVIOUS: NEW_KEY })))
      expect(back.unknown).toEqual([])
    }
    expect(await contentOf(sys, t, m.id)).toBe('kept through rotation')
  })

  test('embedded mode keeps a generated key in DATA_DIR (0600); `keys rotate-master` replaces it and re-wraps', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'edp-keys-'))
    try {
      const first = await resolveMasterKeys(testConfig({ DATA_DIR: dataDir, CONTENT_MASTER_KEY: '' }))
      expect(first.generated).toBe(true)
      expect((await stat(masterKeyPath(dataDir))).mode & 0o777).toBe(0o600)
      const again = await resolveMasterKeys(testConfig({ DATA_DIR: dataDir, CONTENT_MASTER_KEY: '' }))
      expect([again.generated, again.current.fingerprint]).toEqual([false, first.current.fingerprint])
      const old = (await readFile(masterKeyPath(dataDir), 'utf8')).trim()
      const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', TEST_PG_URL: '', CONTENT_MASTER_KEY: '' }
      const proc = Bun.spawn([process.execPath, 'bin/keys.ts', 'rotate-master'], { cwd: ROOT, env, stdout: 'pipe', stderr: 'pipe' })
      const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()])
      expect({ code, out }).toMatchObject({ code: 0 })
      expect(out).toContain('re-wrapped 0 data keys')
      expect((await readFile(masterKeyPath(dataDir), 'utf8')).trim()).not.toBe(old)
      expect(await readFile(previousMasterKeyPath(dataDir), 'utf8').catch(() => 'gone')).toBe('gone')
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('deleting a tenant', () => {
  test('destroys its data key first: killed before any row goes, its rows cannot be decrypted even with the master key', async () => {
    const t = await createTenant(sys, 'shredded')
    const m = await send(sys, t, 'shred this sentence', {
      attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: Buffer.from('shred this file').toString('base64') }],
    })
    const witness = await createTenant(sys, 'shred-witness')
    const w = await send(sys, witness, 'the witness stays readable')
    expect((await searchTiers(sys.tiers, 'shred this')).map((h) => h.where)).toEqual(['content.content_objects[decompressed]', 'content.attachments[opened]'])
    expect((await call(sys, 'PATCH', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN, body: { status: 'suspended' } })).status).toBe(200)
    expect((await call(sys, 'DELETE', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN })).status).toBe(202)

    // The first statement that would remove any of its content fails: the deletion stops there.
    let fired = false
    const content = faultyDb(sys.tiers.content, (sql) => {
      if (fired || !/^DELETE FROM content\.(transactional_emails|notifications|retention_policies|content_objects|attachment_blobs)/.test(sql.trim())) return false
      return (fired = true)
    })
    const crashing = new Worker(makeDeps({ ...sys.tiers, content }, { config }), { queues: [QUEUES.jobs], jobs: HANDLERS })
    await sys.deps.outbox.kick()
    for (let n = 0; n < 50 && !fired; n++) await crashing.runOnce(QUEUES.jobs)
    expect(fired).toBe(true)

    const row = (await getContentObject(sys.tiers.content, t.id, m.content_storage_key))!
    expect(row.key_id).not.toBeNull() // the row is still there, sealed
    const [key] = await sys.tiers.content.query<{ wrapped_key: Uint8Array | null; destroyed_at: Date | null }>(
      `SELECT wrapped_key, destroyed_at FROM content.tenant_keys WHERE tenant_id = $1`,
      [t.id],
    )
    expect({ wrapped: key!.wrapped_key, destroyed: key!.destroyed_at instanceof Date }).toEqual({ wrapped: null, destroyed: true })
    // A process that never saw the key, holding the master key: nothing opens it.
    const fresh = systemWith({})
    const err = await openStored(fresh.deps.contentKeys, t.id, row).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeyUnavailable)
    expect((err as KeyUnavailable).problem).toContain('was destroyed (tenant deleted)')
    expect(await searchTiers(sys.tiers, 'shred this')).toEqual([]) // neither raw nor opened
    expect(await contentOf(fresh, witness, w.id)).toBe('the witness stays readable')

    // Healthy workers finish it: the rows go, then the key's row.
    await drainQueues(sys)
    const left = await sys.tiers.content.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM content.content_objects WHERE tenant_id = $1) + (SELECT count(*) FROM content.tenant_keys WHERE tenant_id = $1) AS n`,
      [t.id],
    )
    expect(Number(left[0]!.n)).toBe(0)
  }, 60_000)
})

describe('the upgrade job', () => {
  test('seals rows written in the clear in place; every message reads the same before, part way and after; a second run changes nothing', async () => {
    const plain = systemWith({}, { sealContent: false })
    const t = await createTenant(sys, 'upgrade')
    const phrase = 'written-before-encryption'
    const big = `${phrase} `.repeat(300)
    const written = [
      await send(plain, t, `small ${phrase}`, { headers: [{ name: 'X-Note', value: phrase }] }),
      await send(plain, t, big, { attachments: [{ filename: 'n.txt', mime_type: 'text/plain', content_base64: Buffer.from(phrase).toString('base64') }] }),
      await send(plain, t, `third ${phrase}`),
    ]
    // One attachment as the oldest rows have them: bytes inline, no blob.
    await sys.tiers.content.query(
      `INSERT INTO content.attachments (id, tenant_id, parent_storage_key, filename, mime_type, size_bytes, content, sha256)
       VALUES (gen_random_uuid(), $1, $2, 'inline.txt', 'text/plain', 6, $3, 'x')`,
      [t.id, written[2]!.content_storage_key, Buffer.from(`inline ${phrase}`)],
    )
    const reads = async () =>
      Promise.all(
        written.map(async (m) => {
          const detail = await call(sys, 'GET', `/v1/messages/${m.id}`, { token: t.key })
          const files = await Promise.all(
            detail.body.attachments.map(async (a: { id: string }) =>
              Buffer.from((await call(sys, 'GET', `/v1/messages/${m.id}/attachments/${a.id}`, { token: t.key })).raw).toString(),
            ),
          )
          return { content: detail.body.content, files }
        }),
      )
    const before = await reads()
    expect(before[0]!.content).toMatchObject({ content_text: `small ${phrase}`, headers: [{ name: 'X-Note', value: phrase }] })
    expect(before[2]!.files).toEqual([`inline ${phrase}`])
    const hitsBefore = (await searchTiers(sys.tiers, phrase)).map((h) => h.where)
    expect(hitsBefore).toEqual(expect.arrayContaining(['content.content_objects.content_text', 'content.content_objects.headers', 'content.attachment_blobs.content', 'content.attachments.content']))

    // Killed part way: the second body's store fails; what was sealed reads, and so does what was not.
    let stores = 0
    const content = faultyDb(sys.tiers.content, (sql) => /^UPDATE content\.content_objects\s+SET content_text = NULL, content_html = NULL, content_text_packed = \$2/.test(sql.trim()) && ++stores === 2)
    const crashing = new Worker(makeDeps({ ...sys.tiers, content }, { config }), { queues: [QUEUES.jobs], jobs: HANDLERS })
    await enqueue(sys.tiers.queue, 'content.encrypt_existing', { batch_size: 2 })
    await crashing.runOnce(QUEUES.jobs)
    expect(stores).toBeGreaterThanOrEqual(2)
    expect(await reads()).toEqual(before)

    await enqueue(sys.tiers.queue, 'content.encrypt_existing', { batch_size: 2 })
    await drainQueues(sys)
    expect(await unsealedCounts(sys.tiers.content)).toEqual({ bodies: 0, blobs: 0, inline_attachments: 0 })
    expect((await searchTiers(sys.tiers, phrase)).filter((h) => !h.where.includes('['))).toEqual([])
    expect(await reads()).toEqual(before)
    const sealed = await storedBytes(written.map((m) => m.content_storage_key))
    await enqueue(sys.tiers.queue, 'content.encrypt_existing', { batch_size: 2 })
    await drainQueues(sys)
    expect(await storedBytes(written.map((m) => m.content_storage_key))).toEqual(sealed) // nothing sealed twice
  }, 60_000)
})
