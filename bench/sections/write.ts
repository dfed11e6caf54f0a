/**
 * The write path with 20 KB bodies: messages/s through HTTP (validate, compress, content row, ref
 * and its event in one transaction, workers consuming the events) against raw SQL inserts of the
 * same rows into the same tables, and against the legacy design's single-row insert, at 1 and 16
 * concurrent clients. Runs in a fresh database so every design starts from empty tables.
 */
import { availableParallelism } from 'node:os'
import { packBody } from '../../src/tiers/content/codec.ts'
import { messageKey } from '../../src/storage-keys.ts'
import { newId } from '../../src/ids.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import type { Db } from '../../src/db/types.ts'
import { buildPools, fill } from '../../datagen/bodies.ts'
import { LEGACY_DDL } from '../legacy/schema.ts'
import { httpFixture } from '../lib/fixtures.ts'
import { benchDatabase, databaseUrl } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { startServer } from '../lib/server.ts'
import { cpuMeter, msPerItem, type CpuSpent } from '../lib/cpu.ts'
import { round } from '../lib/stats.ts'
import { hasWrk, wrk } from '../lib/wrk.ts'

const BODY_BYTES = 20 * 1024
/** Messages per batch request (the route takes up to 500; 100 keeps a request near 2 MB). */
const BATCH = 100
/** As `npm start` runs on this machine in server mode unless told otherwise: one per core. */
const API_PROCESSES = process.env.BENCH_API_PROCESSES ?? String(availableParallelism())

/** Twenty different 20 KB messages: a text part and an HTML part cut to size from the generator's pools. */
function bodies() {
  const pools = buildPools(3, 20)
  return pools.html.map((h, i) => {
    const t = pools.text[i]!
    const text = fill(t, t.raw, ['Ada', `tok${i}`]).slice(0, 3 * 1024)
    const html = fill(h, h.raw, ['Ada', `tok${i}`]).slice(0, BODY_BYTES - text.length)
    return { text, html, packed: packBody(text, html, 1024) }
  })
}

/** Runs `clients` loops of `once` for `seconds`; returns completed calls per second. */
async function loop(clients: number, seconds: number, once: (i: number) => Promise<void>) {
  const until = performance.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < until; i += clients) {
        await once(i)
        done++
      }
    }),
  )
  return done / seconds
}

export async function benchWrite({ quick = false } = {}): Promise<Section> {
  const seconds = quick ? 1 : 10
  const bench = await benchDatabase('edp_bench_write', 4)
  await bench.db.exec(LEGACY_DDL)
  const url = databaseUrl('edp_bench_write')
  const messages = bodies()
  const rows: Row[] = []
  const data: Record<string, unknown> = { body_bytes: BODY_BYTES }
  const server = await startServer(url, { WORKERS_IN_PROCESS: 'true', API_PROCESSES })
  let stopped = false
  try {
    const f = await httpFixture(server.url, 0)
    const { tenantId, accountId } = f
    let raw16 = 0
    let raw16CpuMs = 0
    const perMessage = (cpu: CpuSpent, rate: number) => msPerItem(cpu, rate * seconds)
    for (const clients of [1, 16]) {
      let http: number | null = null
      let httpCpu: CpuSpent | null = null
      if (hasWrk()) {
        const requests = messages.map((m, i) => ({
          method: 'POST' as const,
          path: '/v1/messages',
          key: f.key,
          body: JSON.stringify({
            email_account_id: accountId,
            from_email: 'sales@bench.test',
            to_email: `lead${i}@example.com`,
            subject: `Quarterly plan ${i}`,
            content_text: m.text,
            content_html: m.html,
          }),
        }))
        const meter = cpuMeter()
        const r = await wrk(server.url, requests, clients, seconds)
        httpCpu = meter()
        if (r.errors > 0) throw new Error(`write path: ${r.errors} failed requests`)
        http = r.per_second
      }
      const raw = postgresDb(url, { max: clients, applicationName: 'edp-bench-raw' })
      const rawMeter = cpuMeter()
      const rawRefs = await loop(clients, seconds, (i) => insertRaw(raw, tenantId, accountId, messages[i % messages.length]!.packed, i))
      const rawCpu = rawMeter()
      const rawLegacy = await loop(clients, seconds, (i) => insertLegacy(raw, tenantId, accountId, messages[i % messages.length]!, i))
      await raw.close()
      // CPU per message, every process (API, workers, PostgreSQL, the load generator): on two cores both sides are CPU-bound.
      const cpuPerMessage = {
        http_ms: http && httpCpu ? perMessage(httpCpu, http) : null,
        http_busy_pct: httpCpu?.busy_pct ?? null,
        raw_ms: perMessage(rawCpu, rawRefs),
        raw_busy_pct: rawCpu.busy_pct,
      }
      data[`clients_${clients}`] = { http_per_s: http, raw_4tier_per_s: rawRefs, raw_legacy_per_s: rawLegacy, cpu_per_message: cpuPerMessage }
      if (clients === 16) {
        raw16 = rawRefs
        raw16CpuMs = cpuPerMessage.raw_ms
      }
      rows.push(
        {
          benchmark: `write, ${clients} client${clients > 1 ? 's' : ''}`,
          case: '20 KB message: HTTP (API + queue + workers) vs raw INSERTs of the same content row and ref',
          ours: http === null ? 'skipped: no wrk' : `${Math.round(http)} msg/s`,
          baseline: `${Math.round(rawRefs)} msg/s`,
          ratio: http === null ? null : http / rawRefs,
          note: `API_PROCESSES=${API_PROCESSES}; concurrent requests share their commits (group commit); CPU per message (all processes) ${cpuPerMessage.http_ms ?? '-'} vs ${cpuPerMessage.raw_ms} ms, cores busy ${cpuPerMessage.http_busy_pct ?? '-'}% vs ${cpuPerMessage.raw_busy_pct}%`,
        },
        {
          benchmark: `write, ${clients} client${clients > 1 ? 's' : ''}`,
          case: 'raw INSERTs: 4-tier content row + ref vs one legacy emails row (bodies compressed by TOAST)',
          ours: `${Math.round(rawRefs)} msg/s`,
          baseline: `${Math.round(rawLegacy)} msg/s`,
          ratio: rawRefs / rawLegacy,
          note: `the 4-tier rows are compressed by the client (zstd) before the timer; ${round(messages[0]!.packed.stored_size_bytes / 1024, 1)} KB stored`,
        },
      )
    }
    if (hasWrk()) {
      const batchMeter = cpuMeter()
      const perSecond = await batchRate(server.url, f.key, accountId, messages, seconds)
      const batchCpu = batchMeter()
      await server.stop()
      stopped = true
      // The same with the workers in another process (server mode's default), once the first
      // server and its workers are gone: the API's own rate; the message.created jobs wait in the
      // queue for `npm run workers`.
      const apiOnly = await startServer(url, { WORKERS_IN_PROCESS: 'false', API_PROCESSES })
      let apiAlone: number
      let apiAloneCpu: CpuSpent
      try {
        const meter = cpuMeter()
        apiAlone = await batchRate(apiOnly.url, f.key, accountId, messages, seconds)
        apiAloneCpu = meter()
      } finally {
        await apiOnly.stop()
      }
      data.batch = {
        messages_per_request: BATCH,
        connections: 4,
        per_s: perSecond,
        workers_elsewhere_per_s: apiAlone,
        raw_4tier_16_clients_per_s: raw16,
        cpu_ms_per_message: { workers_in_process: perMessage(batchCpu, perSecond), api_alone: perMessage(apiAloneCpu, apiAlone), raw_16_clients: raw16CpuMs },
      }
      rows.push(
        {
          benchmark: 'write, batch',
          case: `20 KB messages, ${BATCH} per POST /v1/messages/batch, 4 in flight, vs raw INSERTs at 16 clients`,
          ours: `${Math.round(perSecond)} msg/s`,
          baseline: `${Math.round(raw16)} msg/s`,
          ratio: perSecond / raw16,
          note: `API_PROCESSES=${API_PROCESSES}, workers in process; each batch: one reference read, one content and one OLTP transaction; CPU per message ${perMessage(batchCpu, perSecond)} vs ${raw16CpuMs} ms`,
        },
        {
          benchmark: 'write, batch',
          case: 'the same with the workers in their own process (server mode default), not consuming during the run',
          ours: `${Math.round(apiAlone)} msg/s`,
          baseline: `${Math.round(raw16)} msg/s`,
          ratio: apiAlone / raw16,
          note: `the API alone: the message.created jobs (analytics) wait in the queue; CPU per message ${perMessage(apiAloneCpu, apiAlone)} vs ${raw16CpuMs} ms`,
        },
      )
    }
  } finally {
    if (!stopped) await server.stop()
    await bench.dispose()
  }
  return { name: 'write', rows, data }
}

/** Messages per second through POST /v1/messages/batch: BATCH messages a request, 4 requests in flight. */
async function batchRate(base: string, key: string, accountId: string, messages: ReturnType<typeof bodies>, seconds: number): Promise<number> {
  // Campaign sends: BATCH messages per POST /v1/messages/batch, a few requests in flight.
  const body = (r: number) =>
    JSON.stringify({
      messages: Array.from({ length: BATCH }, (_, i) => {
        const m = messages[(r + i) % messages.length]!
        return {
          email_account_id: accountId,
          from_email: 'sales@bench.test',
          to_email: `lead${r}-${i}@example.com`,
          subject: `Quarterly plan ${i}`,
          content_text: m.text,
          content_html: m.html,
        }
      }),
    })
  const requests = Array.from({ length: 4 }, (_, r) => ({ method: 'POST' as const, path: '/v1/messages/batch', key, body: body(r) }))
  const r = await wrk(base, requests, 4, seconds)
  if (r.errors > 0) throw new Error(`batch ingest: ${r.errors} failed requests`)
  return r.per_second * BATCH
}

async function insertRaw(db: Db, tenantId: string, accountId: string, p: ReturnType<typeof packBody>, i: number) {
  const id = newId()
  const key = messageKey(tenantId, id)
  await db.query(
    `INSERT INTO content.content_objects (storage_key, tenant_id, kind, content_text_packed, content_html_packed, raw_size_bytes,
       stored_size_bytes, compression_type) VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7)`,
    [key, tenantId, p.text_packed, p.html_packed, p.raw_size_bytes, p.stored_size_bytes, p.compression_type],
  )
  await db.query(
    `INSERT INTO oltp.inbox_message_refs (tenant_id, id, email_account_id, direction, from_email, to_email, subject, status)
     VALUES ($1, $2, $3, 'outbound', 'sales@bench.test', $4, $5, 'sent')`,
    [tenantId, id, accountId, `lead${i}@example.com`, `Quarterly plan ${i}`],
  )
}

async function insertLegacy(db: Db, tenantId: string, accountId: string, m: { text: string; html: string }, i: number) {
  await db.query(
    `INSERT INTO legacy.emails (id, tenant_id, email_account_id, direction, message_type, from_email, to_email, subject, status,
       content_text, content_html) VALUES ($1, $2, $3, 'outbound', 'email', 'sales@bench.test', $4, $5, 'sent', $6, $7)`,
    [newId(), tenantId, accountId, `lead${i}@example.com`, `Quarterly plan ${i}`, m.text, m.html],
  )
}
