/**
 * Lines read from a stream of text (for NDJSON), one at a time, so an upload is never held as one
 * string. LF or CRLF ends a line; blank lines are skipped. A line longer than `maxChars` stops
 * being stored and comes out flagged, bounding memory per line.
 */

export interface Line {
  /** 1-based. */
  line: number
  text: string
  tooLong: boolean
}

export async function* lines(chunks: AsyncIterable<string>, maxChars: number): AsyncGenerator<Line> {
  let text = ''
  let length = 0
  let line = 1
  const take = (part: string) => {
    length += part.length
    if (length <= maxChars) text += part
  }
  const finish = (): Line | undefined => {
    const done = text.endsWith('\r') ? text.slice(0, -1) : text
    const out = done.trim() === '' && length <= maxChars ? undefined : { line, text: done, tooLong: length > maxChars }
    text = ''
    length = 0
    line++
    return out
  }
  for await (const chunk of chunks) {
    let i = 0
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', i)) {
      take(chunk.slice(i, nl))
      i = nl + 1
      const out = finish()
      if (out) yield out
    }
    take(chunk.slice(i))
  }
  const last = finish()
  if (last) yield last
}
