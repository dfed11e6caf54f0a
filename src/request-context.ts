/**
 * Which request the running code works for, without threading it through every call: the HTTP
 * request-id middleware opens the scope, a job enqueued inside it carries the ids in its envelope,
 * and the worker reopens the scope around that job's handler. So an operator can follow one
 * request from its access line to every job it caused, and to the jobs those caused.
 * AsyncLocalStorage follows awaits (and timers set inside), on Bun, Node and Deno alike.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface RequestIds {
  /** The server's own id for the request: a client cannot choose it. */
  request_id: string
  /** The client's X-Request-Id, when it sent a well-formed one. */
  client_request_id?: string
}

const scope = new AsyncLocalStorage<RequestIds | undefined>()

/** The ids of the request the caller runs for, or undefined outside one (boot, timers, jobs no request caused). */
export const currentRequestIds = (): RequestIds | undefined => scope.getStore()

/** Runs fn (and everything it awaits) as part of that request; undefined runs it as part of none. */
export const withRequestIds = <T>(ids: RequestIds | undefined, fn: () => T): T => scope.run(ids, fn)

/** pino mixin: every log line written inside a request's scope names it. */
export const requestIdsForLog = (): Partial<RequestIds> => scope.getStore() ?? {}
