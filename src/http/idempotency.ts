/**
 * Idempotency-Key on POST: a client that lost an answer (timeout, dropped connection) sends the
 * request again with the same key and gets the first answer, with `Idempotent-Replayed: true`,
 * instead of a second write. Mounted after authentication, the rate limit and the scope check
 * (their refusals are not the route's answer and claim nothing) and after the body limit, so the
 * body read here to hash it is bounded; the route reads it again from Hono's cache.
 *
 * The request is the same when its method, path and query, Content-Type and body bytes are. Only
 * an answer below 400 is kept: a 4xx means nothing was written (the API's rule), and a 5xx is a
 * fault the client should retry, so either frees the key for the retry or a corrected request.
 */
import { createHash } from 'node:crypto'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { IdempotencyKeys, MAX_KEPT_ANSWER_BYTES, OPERATOR_OWNER } from '../services/idempotency.ts'
import type { AppEnv } from './env.ts'
import { problems } from './schemas.ts'

export const IDEMPOTENCY_HEADER = 'Idempotency-Key'
const KEY_SHAPE = /^[\x20-\x7e]{1,255}$/
const field = (message: string) => [{ field: IDEMPOTENCY_HEADER, message }]

function requestHash(c: Context<AppEnv>, body: Uint8Array): string {
  const url = new URL(c.req.url)
  const h = createHash('sha256')
  h.update(`${c.req.method}\n${url.pathname}${url.search}\n${(c.req.header('content-type') ?? '').toLowerCase()}\n`)
  return h.update(body).digest('hex')
}

function keyOf(c: Context<AppEnv>): string | undefined {
  const key = c.req.header(IDEMPOTENCY_HEADER)
  if (key !== undefined && !KEY_SHAPE.test(key)) {
    throw new AppError('validation_failed', `${IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters`, field('must be 1 to 255 printable ASCII characters'))
  }
  return key
}

/** The middleware for tenant routes (keys per tenant) and for operator routes (keys of their own). */
export function idempotency(deps: Deps) {
  const keys = new IdempotencyKeys(deps)
  const forOwner = (ownerOf: (c: Context<AppEnv>) => string) =>
    createMiddleware<AppEnv>(async (c, next) => {
      if (c.req.method !== 'POST') return next()
      const key = keyOf(c)
      if (key === undefined) return next()
      const owner = ownerOf(c)
      const begun = await keys.begin({ owner, key, requestHash: requestHash(c, new Uint8Array(await c.req.arrayBuffer())) })
      switch (begun.kind) {
        case 'reused':
          throw new AppError(
            'validation_failed',
            `this ${IDEMPOTENCY_HEADER} was used for another request in the last 24 h; send a new key`,
            field('used for another request (method, path, Content-Type or body) in the last 24 h'),
          )
        case 'in_progress':
          c.header('Retry-After', '1')
          throw new AppError('conflict', `a request with this ${IDEMPOTENCY_HEADER} is still in progress; retry after 1 s`, field('in progress'))
        case 'not_kept':
          throw new AppError(
            'conflict',
            `the request with this ${IDEMPOTENCY_HEADER} succeeded (${begun.status}), but its answer was over ${MAX_KEPT_ANSWER_BYTES} bytes and not kept; it is not run again`,
            field('already used'),
          )
        case 'replay': {
          const { status, contentType, body } = begun.answer
          const headers: Record<string, string> = { 'Idempotent-Replayed': 'true' }
          if (contentType) headers['content-type'] = contentType
          // A null-body status (204) must be answered without a body, even an empty one.
          return body.byteLength ? c.body(body as Uint8Array<ArrayBuffer>, status as 200, headers) : c.body(null, status as 204, headers)
        }
      }
      const { claim } = begun
      try {
        await next()
      } catch (err) {
        await claim.release().catch(() => {})
        throw err
      }
      try {
        const res = c.res
        if (res.status >= 400) await claim.release()
        else await claim.keep({ status: res.status, contentType: res.headers.get('content-type'), body: new Uint8Array(await res.clone().arrayBuffer()) })
      } catch (err) {
        // The answer stands (its writes are done); the claim lapses, so only a retry after that could run twice.
        c.get('log').error({ err }, 'could not record the answer of an idempotent request')
      }
    })
  return { tenant: forOwner((c) => c.get('tenantId')), operator: forOwner(() => OPERATOR_OWNER) }
}

/** Which operations take the key: every POST but the provider webhooks (they dedupe on the provider's event id). */
export const takesIdempotencyKey = (method: string, path: string) => method.toLowerCase() === 'post' && path.startsWith('/v1/') && !path.startsWith('/v1/webhooks/')

const PARAMETER = {
  name: IDEMPOTENCY_HEADER,
  in: 'header' as const,
  required: false,
  description:
    'Makes the POST safe to retry. The same key with the same request (method, path and query, Content-Type, body) ' +
    'within 24 h answers the first success again, with `Idempotent-Replayed: true`, and writes nothing; a copy sent ' +
    'while the first runs waits for its answer (up to IDEMPOTENCY_WAIT_S, then 409 with Retry-After). The key with ' +
    'another request is 422. A 4xx or 5xx answer frees the key. Keys are per tenant (the operator’s apart); use a random one, such as a UUID.',
  schema: { type: 'string' as const, minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]+$' },
  example: '0b7d2c4e-5f61-4a8e-9c3d-7e2f1a6b9d40',
}

const REPLAYED = { 'Idempotent-Replayed': { description: '`true` when this is the kept answer of an earlier request with the same Idempotency-Key', schema: { type: 'string' as const, enum: ['true'] } } }

/** Adds the header parameter, the 409 and 422 it can cause, and the replay header to every operation that takes it. */
export function describeIdempotency(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('parameters', 'IdempotencyKey', PARAMETER)
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || !takesIdempotencyKey(def.route.method, def.route.path)) continue
    const route = def.route
    const responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, r]) =>
        Number(status) < 300 && !('$ref' in r) ? [status, { ...r, headers: { ...(r.headers as object), ...REPLAYED } }] : [status, r],
      ),
    )
    def.route = {
      ...route,
      parameters: [...(route.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' }] as typeof route.parameters,
      responses: { ...responses, ...problems(409, 422) },
    }
  }
}
