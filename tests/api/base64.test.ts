/** The attachment base64 check: exact on the edges, and linear (a regex over the value was not). */
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { base64Problem, decodeBase64, decodedLength } from '../../src/http/base64.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

describe('base64Problem', () => {
  test('accepts standard padded base64 of every length remainder, and the empty string', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      const bytes = randomBytes(n)
      const s = bytes.toString('base64')
      expect(base64Problem(s, 1000)).toBeUndefined()
      expect(decodedLength(s)).toBe(n)
      expect(Buffer.from(decodeBase64(s)).equals(bytes)).toBe(true)
    }
  })

  test.each(['aGVsbG8', 'aGVs bG8=', 'aGVs\r\nbG8=', 'aGVs-G8=', 'aG==bG8=', '=aGV', 'aGVsbG8é', 'a==='])('refuses %p', (s) => {
    expect(base64Problem(s, 1000)).toContain('base64')
  })

  test('refuses by decoded size before scanning', () => {
    expect(base64Problem('QUFB'.repeat(4), 11)).toBe('decodes to 12 bytes; at most 11')
    expect(base64Problem('QUFB'.repeat(4), 12)).toBeUndefined()
  })

  // A generous bound, not a benchmark: the regex it replaced took about 0.55 s per MB (5 s here).
  test('checks 10 MB in well under two seconds', () => {
    const s = randomBytes(10 * 1024 * 1024).toString('base64')
    const started = performance.now()
    expect(base64Problem(s, Number.MAX_SAFE_INTEGER)).toBeUndefined()
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
