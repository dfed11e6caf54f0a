/**
 * What encryption at rest costs: message writes (POST /v1/messages' service: seal, content
 * transaction, ref and job) and content reads (GET /v1/messages/{id}/content's service: fetch,
 * open, decompress) with sealing and without, on PGlite and on PostgreSQL, over bodies of 20-40 KB
 * from the corpus. Both sides run the same code over the same database; "without" is a Deps that
 * writes in the clear (reads of clear rows skip the key). Blocks alternate, and so does which side
 * goes first in each pair, so drift and leftovers hit both alike; throughput is per side,
 * latencies per message (p50, p99), and the ratio is the median of the blocks' ratios. Also the
 * cipher alone: sealing and opening one packed body, in microseconds.
 */
import { corpus } from '../../datagen/corpus.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { openPglite, pgliteDb } from '../../src/db/pglite.ts'
import { TIER_NAMES, type TierName } from '../../src/db/tier-names.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import type { Db } from '../../src/db/types.ts'
import type { Deps } from '../../src/deps.ts'
import { createEmailAccount } from '../../src/services/email-accounts.ts'
import { createMessage, getMessageContent } from '../../src/services/messages.ts'
import { createTenant } from '../../src/services/tenants.ts'
import { packBody } from '../../src/tiers/content/codec.ts'
import { openBody, sealBody } from '../../src/tiers/content/sealing.ts'
import { benchDatabase, benchDeps } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { median, percentile, round } from '../lib/stats.ts'

const BLOCKS = 10
const CLIENTS = 4

/** Bodies of 20-40 KB: several corpus letters end to end (a long thread quoted below a reply). */
function bodies(count: number) {
  const letters = corpus(count * 8)
  return Array.from({ length: count }, (_, i) => {
    let text = ''
    let html = ''
    for (let j = i * 8; j < i * 8 + 8 && text.length + html.length < 20_000 + (i % 5) * 4_000; j++) {
      text += `${letters[j]!.text}\n\n`
      html += letters[j]!.html
    }
    return { text, html }
  })
}

interface Side {
  deps: Deps
  tenantId: string
  accountId: string
  ids: string[]
  writeMs: number[]
  readMs: number[]
  writeWall: number
  readWall: number
}

async function side(deps: Deps, name: string): Promise<Side> {
  const { tenant } = await createTenant(deps, name)
  const account = await createEmailAccount(deps, tenant.id, { email_address: `sales@${name}.test` })
  return { deps, tenantId: tenant.id, accountId: account.id, ids: [], writeMs: [], readMs: [], writeWall: 0, readWall: 0 }
}

/** Runs `n` operations from CLIENTS workers, recording each one's latency; returns wall milliseconds. */
async function timed(n: number, op: (i: number) => Promise<void>, samples: number[]) {
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < n) {
        const i = next++
        const t0 = performance.now()
        await op(i)
        samples.push(performance.now() - t0)
      }
    }),
  )
  return performance.now() - started
}

async function run(engine: string, tiers: Tiers, total: number, corpusBodies: { text: string; html: string }[]) {
  const plain = await side(benchDeps(tiers, { sealContent: false }), 'bench-plain')
  const sealed = await side(benchDeps(tiers), 'bench-sealed')
  const write = (s: Side) => async (i: number) => {
    const b = corpusBodies[i % corpusBodies.length]!
    const ref = await createMessage(s.deps, s.tenantId, {
      email_account_id: s.accountId,
      from_email: 'sales@bench.test',
      to_email: `lead${i}@example.com`,
      subject: `Re: our proposal ${i}`,
      content_text: b.text,
      content_html: b.html,
      headers: [{ name: 'X-Mailer', value: 'bench' }],
      direction: 'outbound',
      message_type: 'email',
    })
    s.ids.push(ref.id)
  }
  const read = (s: Side) => async (i: number) => {
    const c = await getMessageContent(s.deps, s.tenantId, s.ids[i % s.ids.length]!)
    if (!c.content_html) throw new Error('bench read returned no body')
  }
  // Warm-up: each tenant's key made and cached, statements prepared.
  for (const s of [plain, sealed]) await timed(20, write(s), [])
  const block = Math.ceil(total / BLOCKS)
  const ratios = { write: [] as number[], read: [] as number[] }
  // Which side goes first alternates block by block (plain-sealed, sealed-plain, ...): a side that
  // always ran second paid for the other's leftovers (dirty pages, garbage, WAL) in both earlier runs.
  const pair = async (b: number, op: 'write' | 'read') => {
    const go = (side_: Side) => timed(block, op === 'write' ? write(side_) : read(side_), op === 'write' ? side_.writeMs : side_.readMs)
    let p: number
    let s: number
    if (b % 2 === 0) {
      p = await go(plain)
      s = await go(sealed)
    } else {
      s = await go(sealed)
      p = await go(plain)
    }
    if (op === 'write') {
      plain.writeWall += p
      sealed.writeWall += s
    } else {
      plain.readWall += p
      sealed.readWall += s
    }
    ratios[op].push(p / s)
  }
  for (let b = 0; b < BLOCKS; b++) await pair(b, 'write')
  for (let b = 0; b < BLOCKS; b++) await pair(b, 'read')
  const n = block * BLOCKS
  const stats = (ms: number[], wall: number) => ({ per_s: round(n / (wall / 1000), 0), p50_ms: round(median(ms), 2), p99_ms: round(percentile(ms, 99), 2) })
  const data = {
    messages_per_side: n,
    clients: CLIENTS,
    write: { sealed: stats(sealed.writeMs, sealed.writeWall), plain: stats(plain.writeMs, plain.writeWall), ratio: round(median(ratios.write), 3) },
    read: { sealed: stats(sealed.readMs, sealed.readWall), plain: stats(plain.readMs, plain.readWall), ratio: round(median(ratios.read), 3) },
  }
  const rows: Row[] = (['write', 'read'] as const).map((op) => ({
    benchmark: `encryption, ${engine}`,
    case: `${op === 'write' ? 'message create (service)' : 'content read (service)'}, ${CLIENTS} clients, 20-40 KB bodies: sealed vs in the clear`,
    ours: `${data[op].sealed.per_s}/s, p50 ${data[op].sealed.p50_ms} ms, p99 ${data[op].sealed.p99_ms} ms`,
    baseline: `${data[op].plain.per_s}/s, p50 ${data[op].plain.p50_ms} ms, p99 ${data[op].plain.p99_ms} ms`,
    ratio: median(ratios[op]),
    note: `${n} messages each side in ${BLOCKS} alternating blocks (ratio: median of the blocks)`,
  }))
  return { rows, data }
}

/** The cipher alone: seal and open one packed body (compressed, ~8 KB), microseconds. */
async function cipherOnly(corpusBodies: { text: string; html: string }[]): Promise<{ row: Row; data: Record<string, number> }> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const k = { tenantId: '00000000-0000-0000-0000-000000000001', keyId: '00000000-0000-0000-0000-000000000002', key }
  const packed = corpusBodies.slice(0, 200).map((b) => packBody(b.text, b.html, 1024))
  const bytes = packed.reduce((n, p) => n + p.stored_size_bytes, 0) / packed.length
  const seal: number[] = []
  const open: number[] = []
  for (let round_ = 0; round_ < 5; round_++) {
    for (const [i, p] of packed.entries()) {
      let t0 = performance.now()
      const s = await sealBody(k, `key-${i}`, p, [{ name: 'X-Mailer', value: 'bench' }])
      seal.push((performance.now() - t0) * 1000)
      const row = { storage_key: `key-${i}`, content_text: null, content_html: null, content_text_packed: s.text_packed, content_html_packed: s.html_packed, headers: null, headers_sealed: s.headers_sealed, key_id: s.key_id, nonce: s.nonce }
      t0 = performance.now()
      await openBody(k, row)
      open.push((performance.now() - t0) * 1000)
    }
  }
  const data = { packed_bytes_mean: Math.round(bytes), seal_us_p50: round(median(seal), 1), seal_us_p99: round(percentile(seal, 99), 1), open_us_p50: round(median(open), 1), open_us_p99: round(percentile(open, 99), 1) }
  return {
    data,
    row: {
      benchmark: 'encryption, cipher alone',
      case: `AES-256-GCM (WebCrypto) over one packed body (${Math.round(bytes / 1024)} KB mean) and its headers`,
      ours: `seal p50 ${data.seal_us_p50} µs (p99 ${data.seal_us_p99}), open p50 ${data.open_us_p50} µs (p99 ${data.open_us_p99})`,
      baseline: '–',
      ratio: null,
    },
  }
}

export async function benchEncryption({ quick = false } = {}): Promise<Section> {
  const total = quick ? 200 : 3000
  const corpusBodies = bodies(quick ? 50 : 300)
  const rows: Row[] = []
  const data: Record<string, unknown> = {
    body_kb_mean: round(corpusBodies.reduce((n, b) => n + b.text.length + b.html.length, 0) / corpusBodies.length / 1024, 1),
  }
  const cipher = await cipherOnly(corpusBodies)
  rows.push(cipher.row)
  data.cipher = cipher.data
  const pglite = pgliteDb(await openPglite())
  try {
    const dbs = Object.fromEntries(TIER_NAMES.map((t) => [t, pglite])) as Record<TierName, Db>
    await migrateAll(dbs)
    const r = await run('PGlite', tiersFrom(dbs), total, corpusBodies)
    rows.push(...r.rows)
    data.pglite = r.data
  } finally {
    await pglite.close()
  }
  const bench = await benchDatabase('edp_bench_encryption', 20)
  try {
    const r = await run('PostgreSQL', bench.tiers, total, corpusBodies)
    rows.push(...r.rows)
    data.postgres = r.data
  } finally {
    await bench.dispose()
  }
  return { name: 'encryption', rows, data }
}
