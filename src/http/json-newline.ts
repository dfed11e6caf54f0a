/**
 * Every JSON answer ends with a newline, as command-line tools and log pipes expect (`curl` output
 * that does not run into the prompt; one document per line when answers are concatenated). Done
 * once here for every route, problem bodies and the OpenAPI document included, rather than in
 * each handler.
 *
 * c.json is the hot path: for this request it writes the newline as it serializes, which costs
 * nothing (re-reading and rebuilding every answer cost 4-5 µs on a 5 KB list, a quarter of the
 * time Hono spends on such a request). Any other JSON answer (built with c.body, replayed, or
 * re-wrapped by a middleware) is read back here and given its newline; without a Content-Length
 * header, so the runtime sends the right one. A 304 has no body and keeps its ETag; an ETag
 * computed over the JSON still changes exactly when the JSON does. NDJSON and other types are
 * left alone, and so is a file (an answer with a Content-Disposition: an attachment stored as
 * application/json is the stored bytes, exactly).
 */
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from './env.ts'

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

/** Answers c.json built here: they already end with the newline. */
const terminated = new WeakSet<Response>()

type NewResponse = (data: string, arg?: number | ResponseInit, headers?: Record<string, string | string[]>) => Response

export const jsonEndsWithNewline = createMiddleware<AppEnv>(async (c, next) => {
  // What Hono's own c.json does, with the newline: the same status, headers and Content-Type rules.
  const json = (object: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>) => {
    const res = (c.newResponse as NewResponse)(`${JSON.stringify(object)}\n`, arg, { 'Content-Type': 'application/json', ...headers })
    terminated.add(res)
    return res
  }
  c.json = json as unknown as typeof c.json
  await next()
  const res = c.res
  if (terminated.has(res) || !res.body || !JSON_TYPE.test(res.headers.get('content-type') ?? '') || res.headers.has('content-disposition')) return
  const text = await res.text()
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  // Unset first: assigning over a response makes Hono copy the old one's headers onto the new one.
  c.res = undefined
  c.res = new Response(text.endsWith('\n') ? text : `${text}\n`, { status: res.status, statusText: res.statusText, headers })
})
