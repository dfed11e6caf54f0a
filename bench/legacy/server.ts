/**
 * The legacy application's read API for the HTTP comparison. It is built from the same pieces as
 * the 4-tier API, so the comparison is about the data design and not the web stack: Bun, Hono
 * with the same zod-validated routes and 422 hook, request ids, a per-request pino logger, a
 * prom-client latency histogram, postgres.js with the same pool size and API-key authentication
 * against the same keys. Its message routes are answered from the single legacy `emails` table.
 * Started by the benchmark as its own process: `bun run bench/legacy/server.ts` with DATABASE_URL.
 */
import { createRoute, z } from '@hono/zod-openapi'
import { Histogram, Registry } from 'prom-client'
import { postgresDb } from '../../src/db/postgres.ts'
import { router } from '../../src/http/env.ts'
import { AppError } from '../../src/errors.ts'
import { onError } from '../../src/http/problem.ts'
import { requestIds } from '../../src/http/request-id.ts'
import { requestLog } from '../../src/http/request-log.ts'
import { ListMessagesQuery, MessageParams } from '../../src/http/message-schemas.ts'
import { sha256Hex } from '../../src/ids.ts'
import { createLogger } from '../../src/system.ts'
import { findKeyByHash } from '../../src/tiers/oltp/api-keys.ts'
import { legacyQueries } from './queries.ts'

const db = postgresDb(process.env.DATABASE_URL!, { max: Number(process.env.DB_POOL_MAX ?? 10), applicationName: 'edp-legacy' })
const log = createLogger({ LOG_LEVEL: 'info' })
const latency = new Histogram({
  name: 'legacy_http_request_duration_seconds',
  help: 'HTTP requests by route pattern, method and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [new Registry()],
})
const ok = (description: string) => ({ 200: { description, content: { 'application/json': { schema: z.any() } } } })

const app = router()
// The same request ids and one access line per request as our API, so both pay for them.
app.use(requestIds(log))
app.use(requestLog((c, seconds) => latency.observe({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) }, seconds)))
app.onError(onError)
app.use('/v1/*', async (c, next) => {
  const key = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]
  const tenantId = key && (await findKeyByHash(db, sha256Hex(key)))?.tenant_id
  if (!tenantId) throw new AppError('unauthorized', 'unknown or revoked API key')
  c.set('tenantId', tenantId)
  await next()
})

app.openapi(createRoute({ method: 'get', path: '/v1/messages', request: { query: ListMessagesQuery }, responses: ok('A page') }), async (c) => {
  const q = c.req.valid('query')
  const tenantId = c.get('tenantId')
  const rows = q.email_account_id
    ? await legacyQueries.inbox(db, tenantId, q.email_account_id, q.limit)
    : q.lead_id
      ? await legacyQueries.lead(db, tenantId, q.lead_id, q.limit)
      : []
  const page = rows.slice(0, q.limit) as { id: string }[]
  return c.json({ data: page, next_cursor: rows.length > q.limit ? page.at(-1)!.id : null }, 200)
})
app.openapi(createRoute({ method: 'get', path: '/v1/messages/{id}/thread', request: { params: MessageParams }, responses: ok('A thread') }), async (c) =>
  c.json({ data: await legacyQueries.thread(db, c.get('tenantId'), c.req.valid('param').id) }, 200),
)
app.openapi(createRoute({ method: 'get', path: '/v1/messages/{id}', request: { params: MessageParams }, responses: ok('A message') }), async (c) => {
  const row = await legacyQueries.message(db, c.get('tenantId'), c.req.valid('param').id)
  if (!row) throw new AppError('not_found', 'no such message')
  return c.json(row, 200)
})
app.openapi(
  createRoute({ method: 'get', path: '/v1/analytics/campaigns/{id}', request: { params: MessageParams }, responses: ok('Counts') }),
  async (c) => {
    const { id } = c.req.valid('param')
    const rows = await legacyQueries.campaignCounts(db, c.get('tenantId'), id)
    return c.json({ campaign_id: id, by_status: Object.fromEntries(rows.map((r) => [r.status, r.n])) }, 200)
  },
)

const server = Bun.serve({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1', fetch: app.fetch })
console.log(JSON.stringify({ msg: 'api listening', url: server.url.href }))
process.on('SIGTERM', async () => {
  await server.stop()
  await db.close()
  process.exit(0)
})
