/**
 * Every JSON answer ends with a newline, as command-line tools and log pipes expect (`curl` output
 * that does not run into the prompt; one document per line when answers are concatenated). Done
 * once here for every route, problem bodies and the OpenAPI document included, rather than in
 * each handler. The body is already a string in memory (c.json built it), so this is one copy;
 * the new body has no Content-Length header, and the runtime sets the right one when it sends it.
 * A 304 has no body and keeps its ETag; an ETag computed over the JSON still changes exactly when
 * the JSON does. NDJSON and other types are left alone, and so is a file (an answer with a
 * Content-Disposition: an attachment stored as application/json is the stored bytes, exactly).
 */
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from './env.ts'

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i

export const jsonEndsWithNewline = createMiddleware<AppEnv>(async (c, next) => {
  await next()
  const res = c.res
  if (!res.body || !JSON_TYPE.test(res.headers.get('content-type') ?? '') || res.headers.has('content-disposition')) return
  const text = await res.text()
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  // Unset first: assigning over a response makes Hono copy the old one's headers onto the new one.
  c.res = undefined
  c.res = new Response(text.endsWith('\n') ? text : `${text}\n`, { status: res.status, statusText: res.statusText, headers })
})
