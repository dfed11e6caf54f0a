/**
 * Inbound against outbound, through HTTP on PostgreSQL: the same ~50 KB message with two
 * attachments, posted raw to /v1/inbound (parse, classify, thread, store) and as JSON to
 * /v1/messages (validate, store), by 8 concurrent clients.
 */
import { randomBytes } from 'node:crypto'
import { benchDatabase, BENCH_PG_URL } from '../lib/pg.ts'
import { startServer } from '../lib/server.ts'
import { httpFixture } from '../lib/fixtures.ts'
import { median, percentile, round } from '../lib/stats.ts'
import type { Row, Section } from '../lib/report.ts'

const CLIENTS = 8

function message(i: number, pdf: Buffer, png: Buffer) {
  const words = ['pipeline', 'renewal', 'quarter', 'pricing', 'demo', 'contract', 'onboarding', 'migration', 'support', 'roadmap']
  const html = Array.from({ length: 300 }, (_, k) => `<p>${words[(i + k) % 10]} ${k} ${words[(k * 7) % 10]} for account ${i % 97}.</p>`).join('\n')
  return { html, text: html.replace(/<[^>]+>/g, ''), pdf, png }
}

function rawMime(i: number, m: ReturnType<typeof message>): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/(.{76})/g, '$1\n')
  return [
    'From: Jane Doe <jane@example.com>',
    'To: bench@bench.test',
    `Subject: Re: proposal ${i}`,
    `Message-ID: <bench-in-${i}-${Math.random().toString(36).slice(2)}@example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.text,
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    m.html,
    '--alt--',
    '--mix',
    'Content-Type: application/pdf; name="proposal.pdf"',
    'Content-Disposition: attachment; filename="proposal.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(m.pdf),
    '--mix',
    'Content-Type: image/png; name="chart.png"',
    'Content-Disposition: attachment; filename="chart.png"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(m.png),
    '--mix--',
    '',
  ].join('\n')
}

async function drive(seconds: number, send: (i: number) => Promise<Response>) {
  const latencies: number[] = []
  let next = 0
  let failures = 0
  const end = performance.now() + seconds * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const start = performance.now()
        const res = await send(next++)
        await res.arrayBuffer()
        if (res.status >= 300) failures++
        latencies.push(performance.now() - start)
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  return { per_s: round(latencies.length / elapsed, 0), p50_ms: round(median(latencies), 1), p99_ms: round(percentile(latencies, 99), 1), failures }
}

export async function benchInbound({ quick = false } = {}): Promise<Section> {
  const bench = await benchDatabase('edp_bench_inbound', 4)
  const url = new URL(BENCH_PG_URL)
  url.pathname = '/edp_bench_inbound'
  const server = await startServer(url.toString())
  try {
    const f = await httpFixture(server.url, 0)
    const auth = { authorization: `Bearer ${f.key}` }
    const pdf = randomBytes(12_000)
    const png = randomBytes(6_000)
    const sample = rawMime(0, message(0, pdf, png))
    const seconds = quick ? 2 : 10
    const inbound = await drive(seconds, (i) =>
      fetch(`${server.url}/v1/inbound?email_account_id=${f.accountId}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'message/rfc822' },
        body: rawMime(i, message(i, pdf, png)),
      }),
    )
    const outbound = await drive(seconds, (i) => {
      const m = message(i, pdf, png)
      return fetch(`${server.url}/v1/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          email_account_id: f.accountId,
          from_email: 'bench@bench.test',
          to_email: 'jane@example.com',
          subject: `proposal ${i}`,
          content_text: m.text,
          content_html: m.html,
          attachments: [
            { filename: 'proposal.pdf', mime_type: 'application/pdf', content_base64: pdf.toString('base64') },
            { filename: 'chart.png', mime_type: 'image/png', content_base64: png.toString('base64') },
          ],
        }),
      })
    })
    const size = `${Math.round(sample.length / 1024)} KB raw`
    const rows: Row[] = [
      {
        benchmark: 'inbound vs outbound write',
        case: `${size}, 2 attachments, ${CLIENTS} clients, ${seconds} s each`,
        ours: `inbound ${inbound.per_s}/s (p50 ${inbound.p50_ms} ms, p99 ${inbound.p99_ms} ms)`,
        baseline: `outbound ${outbound.per_s}/s (p50 ${outbound.p50_ms} ms, p99 ${outbound.p99_ms} ms)`,
        ratio: inbound.per_s / outbound.per_s,
      },
    ]
    return { name: 'inbound', rows, data: { raw_bytes: sample.length, clients: CLIENTS, seconds, inbound, outbound } }
  } finally {
    await server.stop()
    await bench.dispose()
  }
}
