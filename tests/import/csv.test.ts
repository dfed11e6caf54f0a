/**
 * The streaming CSV and line readers: what a record is, where it starts, and that cutting the body
 * into chunks anywhere (a quote, a CRLF, a multi-byte character split between two reads) never
 * changes what comes out.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { csvRecords, type CsvRecord } from '../../src/import/csv.ts'
import { lines } from '../../src/import/lines.ts'
import { utf8Chunks } from '../../src/import/text.ts'
import { AppError } from '../../src/errors.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

async function* chunked(text: string, cuts: number[] = []): AsyncGenerator<string> {
  let at = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut > at && cut < text.length) {
      yield text.slice(at, cut)
      at = cut
    }
  }
  yield text.slice(at)
}

async function records(text: string, cuts: number[] = [], max = 1000): Promise<CsvRecord[]> {
  const out: CsvRecord[] = []
  for await (const r of csvRecords(chunked(text, cuts), max)) out.push(r)
  return out
}

const fieldsOf = (rs: CsvRecord[]) => rs.map((r) => r.fields)

/** How a writer quotes a field: only when it must. */
const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)

describe('csvRecords', () => {
  test('quoted commas, doubled quotes and line breaks; CRLF, LF and CR; blank lines skipped; lines counted', async () => {
    const text = 'email,first_name\r\n"a@x.test","Ann, ""the"" first"\r\n\r\nb@x.test,"two\nlines"\nc@x.test,Cy\rd@x.test,'
    const rs = await records(text)
    expect(fieldsOf(rs)).toEqual([
      ['email', 'first_name'],
      ['a@x.test', 'Ann, "the" first'],
      ['b@x.test', 'two\nlines'],
      ['c@x.test', 'Cy'],
      ['d@x.test', ''],
    ])
    expect(rs.map((r) => r.line)).toEqual([1, 2, 4, 6, 7])
    expect(rs.some((r) => r.tooLong || r.unterminated)).toBe(false)
  })

  test('sloppy exports: text after a closing quote, a quote inside a plain field, no final line break', async () => {
    expect(fieldsOf(await records('"ab"c,d"e"\nx'))).toEqual([['abc', 'd"e"'], ['x']])
  })

  test('a quote that never closes flags the last record; a record over the cap is flagged and the next one starts right', async () => {
    const open = await records('a,b\n"c,d\ne')
    expect(open.at(-1)).toMatchObject({ line: 2, unterminated: true })
    const long = await records(`${'x'.repeat(50)},"${'y'.repeat(50)}\n"\nnext,row`, [], 40)
    expect(long.map((r) => [r.line, r.tooLong])).toEqual([
      [1, true],
      [3, false],
    ])
    expect(long[1]!.fields).toEqual(['next', 'row'])
  })

  test('any rows, written and cut into chunks anywhere, read back the same (property)', async () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'é', ',', '"', '\n', '\r', ' ', 'z'), maxLength: 8 })
    const row = fc.array(field, { minLength: 2, maxLength: 4 })
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(200), { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), async (rows, cuts, eol) => {
        const text = rows.map((r) => r.map(quote).join(',')).join(eol)
        expect(fieldsOf(await records(text, cuts))).toEqual(rows)
      }),
      { numRuns: 300 },
    )
  })
})

describe('lines', () => {
  test('LF and CRLF end a line, blank lines are skipped but counted, a long line is flagged', async () => {
    const out = []
    for await (const l of lines(chunked('{"a":1}\r\n\n  \n{"b":2}\n' + 'z'.repeat(30), [3, 9, 10]), 20)) out.push(l)
    expect(out.map((l) => [l.line, l.tooLong ? '(too long)' : l.text])).toEqual([
      [1, '{"a":1}'],
      [4, '{"b":2}'],
      [5, '(too long)'],
    ])
  })
})

describe('utf8Chunks', () => {
  const stream = (parts: number[][]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new Uint8Array(p))
        c.close()
      },
    })

  test('a character split across two reads comes out whole; a byte order mark is dropped', async () => {
    const bytes = [...new TextEncoder().encode('\uFEFFJosé')]
    let text = ''
    for await (const t of utf8Chunks(stream([bytes.slice(0, 6), bytes.slice(6)]))) text += t
    expect(text).toBe('José')
  })

  test('bytes that are not UTF-8 are a 422 naming the body', async () => {
    const read = async () => {
      for await (const _ of utf8Chunks(stream([[0x61, 0xff, 0x62]]))) void _
    }
    const err = await read().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).errors).toEqual([{ field: '(body)', message: 'must be UTF-8' }])
  })
})
