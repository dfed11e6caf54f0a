/**
 * A request body as UTF-8 text, chunk by chunk as it arrives. Bytes that are not UTF-8 are refused
 * (422) rather than turned into U+FFFD, which would store mangled names without a word; a leading
 * byte order mark is dropped, as spreadsheet exports add one.
 */
import { invalid } from '../errors.ts'

export async function* utf8Chunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<string> {
  if (!body) return
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const reader = body.getReader()
  const decode = (bytes?: Uint8Array) => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode()
    } catch {
      throw invalid('the body is not UTF-8 text', '(body)', 'must be UTF-8')
    }
  }
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const text = decode(value)
      if (text) yield text
    }
    finished = true
    const rest = decode()
    if (rest) yield rest
  } finally {
    // Stopped early (a row cap, a bad header): nothing more of the body is wanted.
    if (!finished) await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}
