/**
 * Request ids. The server makes its own id for every request and logs it as `request_id`, so a
 * client cannot make two requests look like one in the logs. A client's X-Request-Id is echoed
 * (and logged as `client_request_id`) only when it is a plain token: a header carrying CR/LF,
 * non-ASCII or 10 KB would otherwise travel into every log line and back out in the response.
 * Both ids scope the rest of the request (src/request-context.ts): its log lines and the jobs it
 * enqueues carry them.
 */
import { randomUUID } from 'node:crypto'
import { createMiddleware } from 'hono/factory'
import type { Logger } from 'pino'
import { withRequestIds } from '../request-context.ts'
import type { AppEnv } from './env.ts'

const HEADER = 'X-Request-Id'
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/

/** A client's id if it is well formed, else undefined. */
export const clientRequestId = (header: string | undefined) => (header !== undefined && WELL_FORMED.test(header) ? header : undefined)

/**
 * Sets `requestId` (the client's id when well formed, else the server's, as answered in the header)
 * and runs the rest of the request in the scope of both; `log` is the process logger, whose lines
 * name the request in that scope.
 */
export const requestIds = (log: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const own = randomUUID()
    const client = clientRequestId(c.req.header(HEADER))
    c.set('requestId', client ?? own)
    c.set('log', log)
    c.header(HEADER, client ?? own)
    await withRequestIds(client ? { request_id: own, client_request_id: client } : { request_id: own }, next)
  })
