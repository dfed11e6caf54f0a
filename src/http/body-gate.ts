/**
 * Bounded memory under large uploads: a request whose body may be large (Content-Length over
 * LARGE_BODY_BYTES, or unknown because chunked) waits for one of MAX_CONCURRENT_LARGE_BODIES
 * slots before anything reads its body; with none free it is refused at once with 503 and
 * Retry-After, before its body is read. A 20 MB JSON body costs several times its size while
 * it is parsed, decoded and written, so ten at once took an embedded process to 3 GB; with two
 * slots (the embedded default) and PGlite's bytea codec replaced, ten peak at 0.8 GB.
 */
import { createMiddleware } from 'hono/factory'
import { isEmbedded, type Config } from '../config.ts'
import { AppError } from '../errors.ts'
import type { AppEnv } from './env.ts'

export function largeBodyGate(config: Config) {
  const slots = config.MAX_CONCURRENT_LARGE_BODIES ?? (isEmbedded(config) ? 2 : 4)
  let inFlight = 0
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'DELETE') return next()
    const declared = c.req.header('content-length')
    const large = declared === undefined ? c.req.header('transfer-encoding') !== undefined : Number(declared) > config.LARGE_BODY_BYTES
    if (!large) return next()
    if (inFlight >= slots) {
      c.header('Retry-After', '1')
      throw new AppError('service_unavailable', `too many large uploads in progress; retry in a second`)
    }
    inFlight++
    try {
      await next()
    } finally {
      inFlight--
    }
  })
}
