/**
 * The OpenAPI document says what the app does: every operation named, summarised and secured as
 * its middleware secures it, every error it can answer documented as a problem, real examples,
 * and the committed typed client generated from this very document. /docs and /openapi.json are
 * public.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { generateTypes } from '@edp/openapi-codegen'
import { SCALAR_BUNDLE } from '../../src/http/openapi.ts'
import { call } from '../support/api.ts'
import { useSystem } from '../support/system.ts'

const sys = useSystem()

type Json = Record<string, any>
interface Operation {
  method: string
  path: string
  op: Json
}

let doc: Json
let operations: Operation[]

beforeAll(async () => {
  const r = await call(sys, 'GET', '/openapi.json')
  expect(r.status).toBe(200)
  doc = r.body
  operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, op]) => ({ method, path, op: op as Json })),
  )
})

/** Follows a local `$ref` (`#/components/...`). */
const resolve = (node: Json): Json =>
  node.$ref ? resolve((node.$ref as string).slice(2).split('/').reduce((at: Json, key) => at[key], doc)) : node

const statuses = (o: Operation) => Object.keys(o.op.responses).map(Number)
const named = (o: Operation) => `${o.method.toUpperCase()} ${o.path}`

const isAdmin = (path: string) => path === '/metrics' || path.startsWith('/v1/tenants') || path.startsWith('/v1/admin/')
const isPublic = (path: string) => path === '/health' || path === '/ready'
/** Provider webhooks: no credential of ours (providers cannot send one); the provider's signature is checked, and a failure is 401. */
const isProviderSigned = (path: string) => path.startsWith('/v1/webhooks/')

describe('the OpenAPI document', () => {
  test('every operation has a unique camelCase operationId, a summary and a description', () => {
    expect(operations.length).toBeGreaterThan(30)
    const missing = operations.filter((o) => !/^[a-z][a-zA-Z]+$/.test(o.op.operationId ?? '') || !o.op.summary || !o.op.description)
    expect(missing.map(named)).toEqual([])
    const ids = operations.map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual(expect.arrayContaining(['createMessage', 'listMessages', 'getMessage', 'getMessageContent', 'getMetrics']))
  })

  test('servers and the two bearer schemes; each operation requires the credential its middleware checks', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:3000' })])
    expect(doc.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      adminToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    })
    const expected = (path: string) => (isPublic(path) || isProviderSigned(path) ? [] : isAdmin(path) ? [{ adminToken: [] }] : [{ apiKey: [] }])
    const wrong = operations.filter((o) => JSON.stringify(o.op.security) !== JSON.stringify(expected(o.path)))
    expect(wrong.map(named)).toEqual([])
  })

  test('every error an operation can answer is a problem: 500 everywhere, auth, scope and rate limit by kind of route', () => {
    const gaps: string[] = []
    const need = (o: Operation, list: number[]) => {
      for (const s of list) if (!statuses(o).includes(s)) gaps.push(`${named(o)} lacks ${s}`)
    }
    for (const o of operations) {
      need(o, [500])
      if (!isPublic(o.path)) need(o, [401])
      if (!isPublic(o.path) && !isAdmin(o.path) && !isProviderSigned(o.path)) need(o, [403, 429])
      const body = o.op.requestBody?.content ?? {}
      if (Object.keys(body).length) need(o, [413, 415, 422, 503])
      if (body['application/json']) need(o, [400])
      if (o.op.parameters?.length) need(o, [422])
      for (const s of statuses(o).filter((s) => s >= 400 && !(o.path === '/ready' && s === 503))) {
        const content = resolve(o.op.responses[s]).content ?? {}
        if (Object.keys(content).join() !== 'application/problem+json' || resolve(content['application/problem+json'].schema) !== doc.components.schemas.Problem) {
          gaps.push(`${named(o)} ${s} is not a problem`)
        }
      }
    }
    expect(gaps).toEqual([])
  })

  test('statuses follow what the services do: 410 only where content expires, no 409 on reads, 404 only where an id is looked up', () => {
    const withStatus = (s: number) => operations.filter((o) => statuses(o).includes(s)).map((o) => o.op.operationId).sort()
    expect(withStatus(410)).toEqual(['getMessage', 'getMessageAttachment', 'getMessageContent'])
    // A conflict with what is stored, or a request with the same Idempotency-Key still running: every POST that takes one, no read.
    expect(operations.filter((o) => o.method === 'get' && statuses(o).includes(409)).map(named)).toEqual([])
    expect(operations.filter((o) => o.method === 'post' && !isProviderSigned(o.path) && !statuses(o).includes(409)).map(named)).toEqual([])
    const listsWith404 = operations.filter((o) => o.op.operationId.startsWith('list') && statuses(o).includes(404))
    expect(listsWith404.map((o) => o.op.operationId)).toEqual(['listSequenceSteps'])
  })

  test('every POST but the provider webhooks takes an Idempotency-Key header, and its successes may say Idempotent-Replayed', () => {
    const takes = (o: Operation) => (o.op.parameters ?? []).some((p: Json) => resolve(p).name === 'Idempotency-Key' && resolve(p).in === 'header')
    const posts = operations.filter((o) => o.method === 'post')
    expect(posts.length).toBeGreaterThan(10)
    expect(posts.filter((o) => takes(o) === isProviderSigned(o.path)).map(named)).toEqual([])
    expect(operations.filter((o) => o.method !== 'post' && takes(o)).map(named)).toEqual([])
    const key = resolve({ $ref: '#/components/parameters/IdempotencyKey' })
    expect(key).toMatchObject({ required: false, schema: { type: 'string', minLength: 1, maxLength: 255 } })
    const created = doc.paths['/v1/messages'].post.responses[201]
    expect(Object.keys(created.headers)).toEqual(['Idempotent-Replayed'])
  })

  test('/metrics is documented as Prometheus text', () => {
    const metrics = doc.paths['/metrics'].get
    expect(Object.keys(metrics.responses[200].content)).toEqual(['text/plain; version=0.0.4'])
  })

  test('request bodies and JSON answers carry examples, with ids of their own kind rather than one placeholder', () => {
    const missing: string[] = []
    const uuids = new Set<string>()
    for (const o of operations) {
      const answers = Object.entries(o.op.responses as Json).filter(([s]) => Number(s) < 300)
      const media = [
        ...Object.values((o.op.requestBody?.content ?? {}) as Json),
        ...answers.map(([, r]) => resolve(r).content?.['application/json']).filter(Boolean),
      ] as Json[]
      for (const m of media) {
        if (m.example === undefined) missing.push(named(o))
        for (const id of JSON.stringify(m.example ?? null).match(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g) ?? []) uuids.add(id)
      }
    }
    expect(missing).toEqual([])
    expect(uuids.size).toBeGreaterThanOrEqual(10)
  })

  test('the committed typed client (tests/api/openapi.gen.ts) is generated from this document: run `npm run openapi:types` after changing a route', async () => {
    const committed = await readFile(new URL('./openapi.gen.ts', import.meta.url), 'utf8')
    expect(await generateTypes(doc)).toBe(committed)
  }, 60_000)
})

describe('/docs and /openapi.json', () => {
  test('are public: no credential asked', async () => {
    expect((await call(sys, 'GET', '/openapi.json')).status).toBe(200)
    const docs = await call(sys, 'GET', '/docs')
    expect(docs.status).toBe(200)
    expect(docs.headers.get('content-type')).toContain('text/html')
  })

  test('/docs renders the reference from /openapi.json with the pinned bundle and nothing else from elsewhere', async () => {
    const html = (await call(sys, 'GET', '/docs')).body as string
    expect(html).toContain(`<script src="${SCALAR_BUNDLE}"`)
    expect(html).toContain('"url": "/openapi.json"')
    expect(SCALAR_BUNDLE).toMatch(/@scalar\/api-reference@\d+\.\d+\.\d+\//)
    const hosts = new Set([...html.matchAll(/https?:\/\/([^/"'\s]+)/g)].map((m) => m[1]))
    expect([...hosts]).toEqual(['cdn.jsdelivr.net'])
  })
})
