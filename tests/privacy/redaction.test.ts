/**
 * What an erasure counts as naming a person: the address as an address, in any case, and never an
 * address that merely contains it. The same pattern decides in JavaScript (bodies, decompressed)
 * and in the database (every other column), so both are checked against one table of cases; and
 * the suppression's hash is the same computed on either side.
 */
import { describe, expect, test } from 'bun:test'
import { addressMatcher, erasedAddress, erasedAddressSql, redactJson, textMatcher } from '../../src/redaction.ts'
import { useSystem } from '../support/system.ts'

const sys = useSystem()

const CASES: [address: string, text: string, names: boolean][] = [
  ['jane@example.com', 'To: Jane Doe <Jane@Example.COM>', true],
  ['jane@example.com', '{"recipient":"JANE@EXAMPLE.COM"}', true],
  ['jane@example.com', 'mailto:jane@example.com?subject=hi', true],
  ['jane@example.com', 'write to jane@example.com.', true],
  ['jane@example.com', '550 5.1.1 <jane@example.com>: user unknown', true],
  ['jane@example.com', 'mary.jane@example.com', false],
  ['jane@example.com', 'x+jane@example.com', false],
  ['jane@example.com', 'jane@example.com.au', false],
  ['jane@example.com', 'jane@example.community', false],
  ['jane@example.com', 'jane@example.com-mail.net', false],
  ['a.b+c@ex-ample.com', 'from A.B+C@EX-AMPLE.COM today', true],
  ['a.b+c@ex-ample.com', 'axb+c@ex-ample.com', false],
  ['o\'neil@example.com', "O'Neil@example.com", true],
  ['o\'neil@example.com', "jo'neil@example.com", false],
]

describe('finding an address', () => {
  test('as an address, in any case, never inside another address: the same in JavaScript and SQL', async () => {
    for (const [address, text, names] of CASES) {
      const m = addressMatcher(address)
      const [sql] = await sys.tiers.oltp.query<{ names: boolean }>(`SELECT $1::text ~* $2 AS names`, [text, m.pattern])
      expect({ address, text, js: m.names(text), sql: sql!.names }).toEqual({ address, text, js: names, sql: names })
    }
  })

  test('redaction replaces the address only, and agrees with regexp_replace', async () => {
    const m = addressMatcher('jane@example.com')
    const text = 'Jane <JANE@example.com>, cc mary.jane@example.com and jane@example.com.'
    const expected = 'Jane <[erased]>, cc mary.jane@example.com and [erased].'
    expect(m.redact(text)).toBe(expected)
    const [row] = await sys.tiers.oltp.query<{ out: string }>(`SELECT regexp_replace($1::text, $2, '[erased]', 'gi') AS out`, [text, m.pattern])
    expect(row!.out).toBe(expected)
    expect(redactJson({ to: ['Jane@Example.com', 'bob@example.com'], 'jane@example.com': 1, n: 2 }, m)).toEqual({
      value: { to: ['[erased]', 'bob@example.com'], '[erased]': 1, n: 2 },
      changed: true,
    })
  })

  test('a tenant id is found as text; the suppression hash is the same computed in SQL', async () => {
    const id = '019cadd2-391f-7ce9-aa06-e9ab85a0bcc1'
    expect(textMatcher(id).names(`tenant ${id.toUpperCase()} refused`)).toBe(true)
    const [row] = await sys.tiers.oltp.query<{ hashed: string }>(`SELECT ${erasedAddressSql('$1::text')} AS hashed`, ['jane@example.com'])
    expect(row!.hashed).toBe(erasedAddress('Jane@Example.com '))
    expect(row!.hashed).toMatch(/^sha256:[0-9a-f]{64}$/)
  })
})
