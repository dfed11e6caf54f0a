/**
 * CSV (RFC 4180) read from a stream of text one record at a time, so an upload is never held as
 * one string. Fields are separated by commas; a field in double quotes may hold commas, quotes
 * (doubled) and line breaks; records end at LF, CRLF or CR. Exports from spreadsheets and CRMs
 * bend the rules, so text after a closing quote is kept as it is rather than refused, and a blank
 * line is skipped. A record longer than `maxChars` keeps parsing (so the next one starts in the
 * right place) but stops storing text and comes out flagged, bounding memory per record.
 */

export interface CsvRecord {
  /** The 1-based line of the body where the record starts (a quoted line break moves later ones on). */
  line: number
  fields: string[]
  /** Over maxChars: the fields are cut short and must not be used. */
  tooLong: boolean
  /** The body ended inside a quoted field. */
  unterminated: boolean
}

/** Characters that end a run of plain text outside quotes. */
const SPECIAL = /[,\r\n"]/g

export async function* csvRecords(chunks: AsyncIterable<string>, maxChars: number): AsyncGenerator<CsvRecord> {
  let fields: string[] = []
  let field = ''
  let fieldBegun = false
  let inQuotes = false
  /** Inside quotes, a quote was just read: the next character says whether it was doubled. */
  let quotePending = false
  /** A CR ended the last record; an LF right after it belongs to the same line break. */
  let skipLf = false
  let line = 1
  let recordLine = 1
  let chars = 0
  let tooLong = false

  const append = (text: string) => {
    chars += text.length
    if (chars > maxChars) tooLong = true
    else field += text
  }
  const endField = () => {
    fields.push(field)
    field = ''
    fieldBegun = false
  }
  /** The finished record, or undefined for a blank line; resets for the next one. */
  const endRecord = (unterminated = false): CsvRecord | undefined => {
    const blank = fields.length === 0 && field === '' && !fieldBegun
    endField()
    const record = blank ? undefined : { line: recordLine, fields, tooLong, unterminated }
    fields = []
    chars = 0
    tooLong = false
    return record
  }

  for await (const chunk of chunks) {
    let i = 0
    while (i < chunk.length) {
      if (skipLf) {
        skipLf = false
        if (chunk[i] === '\n') {
          i++
          continue
        }
      }
      if (inQuotes) {
        if (quotePending) {
          quotePending = false
          if (chunk[i] === '"') {
            append('"')
            i++
            continue
          }
          inQuotes = false
          continue
        }
        const quote = chunk.indexOf('"', i)
        const end = quote < 0 ? chunk.length : quote
        const text = chunk.slice(i, end)
        for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) line++
        append(text)
        if (quote >= 0) quotePending = true
        i = end + (quote >= 0 ? 1 : 0)
        continue
      }
      SPECIAL.lastIndex = i
      const found = SPECIAL.exec(chunk)
      const end = found ? found.index : chunk.length
      if (end > i) {
        append(chunk.slice(i, end))
        fieldBegun = true
      }
      i = end
      if (!found) break
      const ch = found[0]
      i++
      if (ch === ',') {
        endField()
      } else if (ch === '"') {
        if (fieldBegun) append('"')
        else inQuotes = fieldBegun = true
      } else {
        const record = endRecord()
        line++
        recordLine = line
        if (ch === '\r') skipLf = true
        if (record) yield record
      }
    }
  }
  // The body ended: a closing quote may have been the last character, or a quote never closed.
  const unterminated = inQuotes && !quotePending
  const record = endRecord(unterminated)
  if (record) yield record
}
