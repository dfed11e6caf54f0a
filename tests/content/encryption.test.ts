/**
 * Content encrypted at rest, per tenant. Proved on the stored rows: a raw read of every column of
 * every table finds no plaintext (and the same search, opening the rows with the master key, does);
 * a wrong or missing master key answers 503 and names the problem in the log; ciphertexts moved
 * between rows or tenants fail authentication; dedupe never crosses tenants.
 */
import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../src/config.ts'
import { fingerprintOf } from '../../src/content-master-key.ts'
import { createApp } from '../../src/http/app.ts'
import { ContentKeys } from '../../src/services/content-keys.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { captureLogs, type CapturedLogs } from '../support/logs.ts'
import { searchTiers, type Hit } from '../support/search.ts'
import { makeDeps, TEST_MASTER_KEY, testConfig, useSystem, type TestSystem } from '../support/system.ts'

const sys = useSystem()
const OTHER_KEY = Buffer.alloc(32, 3).toString('base64')

/** A system over the same databases, as another process configured with these settings would be. */
function systemWith(overrides: Record<string, string>, logs = captureLogs('error')): TestSystem & { logs: CapturedLogs } {
  const deps = makeDeps(sys.tiers, { config: testConfig(overrides), log: logs.log })
  return { tiers: sys.tiers, deps, app: createApp(deps), logs }
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

/** A message naming `phrase` in its text, html, headers and a text attachment; and a transactional email naming it. */
async function writeAll(s: TestSystem, t: TenantFixture, phrase: string) {
  const small = await call(s, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: `short: ${phrase}` }) })
  const large = await call(s, 'POST', '/v1/messages', {
    token: t.key,
    body: messageBody(t.accountId, {
      content_text: null,
      content_html: `<p>${`long body naming ${phrase}. `.repeat(200)}</p>`,
      headers: [{ name: 'X-Campaign-Note', value: phrase }],
      attachments: [{ filename: 'notes.txt', mime_type: 'text/plain', content_base64: b64(`attached: ${phrase}`) }],
    }),
  })
  const tx = await call(s, 'POST', '/v1/transactional-emails', {
    token: t.key,
    body: { to_email: 'buyer@example.com', from_email: 'shop@acme.test', subject: 'Your receipt', content_text: `receipt: ${phrase}` },
  })
  expect([small.status, large.status, tx.status]).toEqual([201, 201, 201])
  return { small: small.body, large: large.body, tx: tx.body }
}

/** Everything a client reads back of what writeAll wrote. */
async function readAll(s: TestSystem, t: TenantFixture, w: Awaited<ReturnType<typeof writeAll>>) {
  const detail = await call(s, 'GET', `/v1/messages/${w.large.id}`, { token: t.key })
  const file = detail.status === 200 ? await call(s, 'GET', `/v1/messages/${w.large.id}/attachments/${detail.body.attachments[0].id}`, { token: t.key }) : detail
  const small = await call(s, 'GET', `/v1/messages/${w.small.id}/content`, { token: t.key })
  const large = await call(s, 'GET', `/v1/messages/${w.large.id}/content`, { token: t.key })
  const tx = await call(s, 'GET', `/v1/transactional-emails/${w.tx.id}`, { token: t.key })
  return {
    status: [small.status, large.status, file.status, tx.status],
    small: small.body.content_text,
    large: [large.body.content_html, large.body.headers],
    file: file.status === 200 ? Buffer.from(file.raw).toString() : null,
    tx: tx.body.content?.content_text,
  }
}

const raw = (hits: Hit[]) => hits.filter((h) => !h.where.includes('['))
const opened = (hits: Hit[]) => Object.fromEntries(hits.filter((h) => h.where.includes('[')).map((h) => [h.where, h.rows]))

describe('content at rest', () => {
  test('a raw read of every column finds no plaintext of text, html, headers, attachment or transactional body; opened, it is all there', async () => {
    const t = await createTenant(sys, 'enc-raw')
    const phrase = 'quokka-ledger-7731'
    const w = await writeAll(sys, t, phrase)
    const hits = await searchTiers(sys.tiers, phrase)
    expect(raw(hits)).toEqual([])
    // The same search with the master key finds all three bodies (headers included) and the file: it can fail.
    expect(opened(hits)).toEqual({ 'content.content_objects[decompressed]': 3, 'content.attachments[opened]': 1 })
    expect(await readAll(sys, t, w)).toEqual({
      status: [200, 200, 200, 200],
      small: `short: ${phrase}`,
      large: [`<p>${`long body naming ${phrase}. `.repeat(200)}</p>`, [{ name: 'X-Campaign-Note', value: phrase }]],
      file: `attached: ${phrase}`,
      tx: `receipt: ${phrase}`,
    })
  })

  test('a wrong master key answers 503 on every content read and the log names it; a missing one too; never content, never a secret', async () => {
    const t = await createTenant(sys, 'enc-wrong-key')
    const w = await writeAll(sys, t, 'wrong-key-phrase')
    const wrong = systemWith({ CONTENT_MASTER_KEY: OTHER_KEY })
    const got = await readAll(wrong, t, w)
    expect(got.status).toEqual([503, 503, 503, 503])
    const r = await call(wrong, 'GET', `/v1/messages/${w.small.id}/content`, { token: t.key })
    expect(r.body).toMatchObject({ status: 503, detail: 'content key unavailable' })
    expect(JSON.stringify(r.body)).not.toContain('wrong-key-phrase')
    const line = wrong.logs.lines.find((l) => String(l.problem ?? '').startsWith('wrong master key'))
    expect(line).toMatchObject({ tenant_id: t.id })
    expect(String(line!.problem)).toContain(`wrapped by master ${fingerprintOf(Buffer.from(TEST_MASTER_KEY, 'base64'))}`)
    expect(String(line!.problem)).toContain(`this process has ${fingerprintOf(Buffer.from(OTHER_KEY, 'base64'))}`)
    expect(wrong.logs.text()).not.toContain(OTHER_KEY)
    expect(wrong.logs.text()).not.toContain(TEST_MASTER_KEY)

    // No master key at all (server mode refuses to start without one: tests/api/handler.test.ts); a read still answers 503.
    const logs = captureLogs('error')
    const missing = new ContentKeys(sys.tiers.content, logs.log, () => Promise.reject(new ConfigError('invalid configuration:\n  CONTENT_MASTER_KEY: required')))
    const deps = { ...sys.deps, contentKeys: missing }
    const none = { tiers: sys.tiers, deps, app: createApp(deps) }
    expect((await readAll(none, t, w)).status).toEqual([503, 503, 503, 503])
    expect(logs.lines.some((l) => String(l.problem).includes('no usable master key') && String(l.problem).includes('CONTENT_MASTER_KEY'))).toBe(true)
  })

  test('a ciphertext moved to another row or another tenant fails authentication: never the other text', async () => {
    const a = await createTenant(sys, 'enc-swap-a')
    const b = await createTenant(sys, 'enc-swap-b')
    const send = async (t: TenantFixture, text: string) =>
      (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: text }) })).body
    const [a1, a2, a3, b1] = [await send(a, 'alpha one'), await send(a, 'alpha two'), await send(a, 'alpha three'), await send(b, 'bravo one')]
    // Read, then written: on a cluster two tenants' rows sit on different shards, which one statement cannot join.
    const copy = async (from: string, to: string, columns: string[]) => {
      const [source] = await sys.tiers.content.query<Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM content.content_objects WHERE storage_key = $1`, [from])
      await sys.tiers.content.query(`UPDATE content.content_objects SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE storage_key = $1`, [
        to,
        ...columns.map((c) => source![c]),
      ])
    }
    const logs = captureLogs('error')
    const s = systemWith({}, logs)
    const read = async (t: TenantFixture, id: string) => {
      const r = await call(s, 'GET', `/v1/messages/${id}/content`, { token: t.key })
      return { status: r.status, detail: r.body.detail, leaked: JSON.stringify(r.body).includes('bravo') }
    }
    const broken = { status: 500, detail: 'stored content failed its integrity check', leaked: false }
    // The tampered rows are put back afterwards: other tests open every row of the tier (searchTiers).
    const tampered = [a1, a2, a3].map((m) => m.content_storage_key as string)
    const saved = await sys.tiers.content.query<Record<string, unknown>>(
      `SELECT storage_key, content_text_packed, headers_sealed, key_id, nonce FROM content.content_objects WHERE storage_key = ANY($1::text[])`,
      [tampered],
    )
    try {
      // B's ciphertext and nonce in A's row under A's key id: A's key does not open it.
      await copy(b1.content_storage_key, a1.content_storage_key, ['content_text_packed', 'nonce'])
      expect(await read(a, a1.id)).toEqual(broken)
      // B's whole row, key id included: that is not A's key, so there is nothing to try.
      await copy(b1.content_storage_key, a2.content_storage_key, ['content_text_packed', 'headers_sealed', 'key_id', 'nonce'])
      expect(await read(a, a2.id)).toEqual({ status: 503, detail: 'content key unavailable', leaked: false })
      // Within a tenant the key is the same: only the binding to the row stops it.
      const a4 = await send(a, 'alpha four')
      await copy(a4.content_storage_key, a3.content_storage_key, ['content_text_packed', 'headers_sealed', 'key_id', 'nonce'])
      expect(await read(a, a3.id)).toEqual(broken)
      expect(logs.lines.filter((l) => l.msg === 'content failed authentication: altered, or moved from another row or tenant')).toHaveLength(2)
      expect((await call(s, 'GET', `/v1/messages/${a4.id}/content`, { token: a.key })).body.content_text).toBe('alpha four')
      expect((await call(s, 'GET', `/v1/messages/${b1.id}/content`, { token: b.key })).body.content_text).toBe('bravo one')
    } finally {
      for (const r of saved) {
        await sys.tiers.content.query(
          `UPDATE content.content_objects SET content_text_packed = $2, headers_sealed = $3, key_id = $4, nonce = $5 WHERE storage_key = $1`,
          [r.storage_key, r.content_text_packed, r.headers_sealed, r.key_id, r.nonce],
        )
      }
    }
    // Put back, each reads as written.
    expect((await call(s, 'GET', `/v1/messages/${a1.id}/content`, { token: a.key })).body.content_text).toBe('alpha one')
  })

  test('dedupe stays within a tenant: one blob per tenant, each sealed under its own key', async () => {
    const a = await createTenant(sys, 'enc-dedupe-a')
    const b = await createTenant(sys, 'enc-dedupe-b')
    const file = { filename: 'terms.txt', mime_type: 'text/plain', content_base64: b64('the same terms for everyone') }
    for (const t of [a, a, b, b]) {
      expect((await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { attachments: [file] }) })).status).toBe(201)
    }
    const blobs = await sys.tiers.content.query<{ tenant_id: string; key_id: string; content: Uint8Array }>(
      `SELECT tenant_id, key_id, content FROM content.attachment_blobs WHERE tenant_id = ANY($1::uuid[]) ORDER BY tenant_id`,
      [[a.id, b.id]],
    )
    expect(blobs.map((x) => x.tenant_id).sort()).toEqual([a.id, b.id].sort())
    expect(blobs[0]!.key_id).not.toBe(blobs[1]!.key_id)
    expect(Buffer.from(blobs[0]!.content).equals(Buffer.from(blobs[1]!.content))).toBe(false)
  })
})
