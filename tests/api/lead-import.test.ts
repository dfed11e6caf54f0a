/**
 * POST /v1/leads/import: CSV and NDJSON read as they stream in, a report per row (line, field,
 * message), idempotent on the address, suppressed addresses imported but still not mailable, and
 * nothing written when the body as a whole is refused or a fault interrupts the write.
 */
import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { MAX_IMPORT_ROWS } from '../../src/limits.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { faultyDb } from '../support/faults.ts'
import { makeDeps, useSystem } from '../support/system.ts'

const sys = useSystem()

const CSV = { 'content-type': 'text/csv; charset=utf-8' }
const NDJSON = { 'content-type': 'application/x-ndjson' }

const importCsv = (t: TenantFixture, text: string) => call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: text, headers: CSV })
const importNdjson = (t: TenantFixture, text: string) => call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: text, headers: NDJSON })

async function allLeads(t: TenantFixture) {
  const r = await call(sys, 'GET', '/v1/leads?limit=200', { token: t.key })
  return r.body.data as { id: string; email: string; first_name: string | null; last_name: string | null; updated: string }[]
}
const byEmail = async (t: TenantFixture) => Object.fromEntries((await allLeads(t)).map((l) => [l.email, [l.first_name, l.last_name]]))

describe('CSV', () => {
  test('rows import with a report naming each bad row by line and field; other columns are listed as ignored', async () => {
    const t = await createTenant(sys)
    const text = [
      'Email,First Name,last_name,Company',
      'ana@example.com,Ana,Lima,Acme',
      '"bo@example.com","Bo, Jr.","O""Neil",Beta',
      '',
      'not-an-address,Cy,Dee,Gamma',
      `dee@example.com,${'D'.repeat(101)},Ray,Delta`,
      'eve@example.com,Eve,Sun,Epsilon,extra',
      'fay@example.com,,,',
      'gus@example.com,"Gus',
      'Tavares"',
    ].join('\r\n')
    const r = await importCsv(t, text)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      rows: 7,
      created: 3,
      updated: 0,
      unchanged: 0,
      failed: 4,
      suppressed: 0,
      ignored_columns: ['company'],
      errors: [
        { row: 5, field: 'email', message: expect.any(String) },
        { row: 6, field: 'first_name', message: expect.any(String) },
        { row: 7, field: '(row)', message: 'has 5 fields; the header row has 4' },
        // A quoted line break keeps the record whole (lines 9-10), and a name cannot hold one.
        { row: 9, field: 'first_name', message: expect.stringContaining('control characters') },
      ],
      errors_truncated: false,
    })
    expect(await byEmail(t)).toEqual({
      'ana@example.com': ['Ana', 'Lima'],
      'bo@example.com': ['Bo, Jr.', 'O"Neil'],
      'fay@example.com': [null, null],
    })
  })

  test('the same file twice: everything unchanged the second time, nothing rewritten', async () => {
    const t = await createTenant(sys)
    const text = 'email,first_name,last_name\nana@example.com,Ana,Lima\nbo@example.com,Bo,\n'
    expect((await importCsv(t, text)).body).toMatchObject({ rows: 2, created: 2, updated: 0, unchanged: 0, failed: 0 })
    const first = await allLeads(t)
    expect((await importCsv(t, text)).body).toMatchObject({ rows: 2, created: 0, updated: 0, unchanged: 2, failed: 0 })
    expect(await allLeads(t)).toEqual(first)
  })

  test('a known address (any case) gets the names the row gives; an empty cell keeps the stored name', async () => {
    const t = await createTenant(sys)
    await call(sys, 'POST', '/v1/leads', { token: t.key, body: { email: 'Ana@Example.com', first_name: 'Ana', last_name: 'Lima' } })
    const r = await importCsv(t, 'email,first_name,last_name\nana@example.COM,,Lima-Souza\nnew@example.com,New,\n')
    expect(r.body).toMatchObject({ created: 1, updated: 1, unchanged: 0 })
    expect(await byEmail(t)).toEqual({ 'Ana@Example.com': ['Ana', 'Lima-Souza'], 'new@example.com': ['New', null] })
  })

  test('an address repeated in the file fails on its later rows, naming the first', async () => {
    const t = await createTenant(sys)
    const r = await importCsv(t, 'email,first_name\nsam@example.com,Sam\nother@example.com,O\nSAM@example.com,Samuel\n')
    expect(r.body).toMatchObject({ rows: 3, created: 2, failed: 1 })
    expect(r.body.errors).toEqual([{ row: 4, field: 'email', message: 'repeats the address of row 2, which was imported' }])
    expect((await byEmail(t))['sam@example.com']).toEqual(['Sam', null])
  })

  test('a header without email, a column named twice, an empty body, bytes that are not UTF-8: 422 and nothing written', async () => {
    const t = await createTenant(sys)
    const cases: [string | Uint8Array, string][] = [
      ['first_name,last_name\nAna,Lima\n', 'email'],
      ['email,Email\na@example.com,b@example.com\n', 'email'],
      ['\n\n', '(body)'],
      [new Uint8Array([...new TextEncoder().encode('email\na@example.com\n'), 0xc3, 0x28, 0x0a]), '(body)'],
    ]
    for (const [body, field] of cases) {
      const r = await call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: body, headers: CSV })
      expect({ field, status: r.status, named: r.body.errors?.[0]?.field }).toEqual({ field, status: 422, named: field })
    }
    expect(await allLeads(t)).toEqual([])
    const semicolons = await importCsv(t, 'email;first_name\na@example.com;Ann\n')
    expect([semicolons.status, semicolons.body.errors]).toEqual([422, [{ field: 'email', message: 'no such column in the header row; columns must be separated by commas' }]])
  })
})

describe('NDJSON', () => {
  test('one object per line; a line that is not JSON or not an object fails alone; unknown keys are listed', async () => {
    const t = await createTenant(sys)
    const text = [
      JSON.stringify({ email: 'ana@example.com', first_name: 'Ana', tags: ['vip'] }),
      '{"email": "bo@example.com"',
      '[1, 2]',
      '',
      JSON.stringify({ email: 'cy@example.com', last_name: 7 }),
      JSON.stringify({ email: ' dee@example.com ', first_name: '', last_name: 'Ray' }),
    ].join('\n')
    const r = await importNdjson(t, text)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      rows: 5,
      created: 2,
      updated: 0,
      unchanged: 0,
      failed: 3,
      suppressed: 0,
      ignored_columns: ['tags'],
      errors: [
        { row: 2, field: '(row)', message: 'is not valid JSON' },
        { row: 3, field: '(row)', message: 'must be a JSON object' },
        { row: 5, field: 'last_name', message: expect.any(String) },
      ],
      errors_truncated: false,
    })
    expect(await byEmail(t)).toEqual({ 'ana@example.com': ['Ana', null], 'dee@example.com': [null, 'Ray'] })
  })

  test('a body streamed in small chunks, split inside characters and lines, imports in batches like one piece', async () => {
    const t = await createTenant(sys)
    const rows = Array.from({ length: 2_500 }, (_, i) => JSON.stringify({ email: `lead${i}@example.com`, first_name: `Zoë${i}`, last_name: '山田' }))
    const bytes = new TextEncoder().encode(rows.join('\n'))
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.length; at += 997) c.enqueue(bytes.slice(at, at + 997))
        c.close()
      },
    })
    const res = await sys.app.request('/v1/leads/import', { method: 'POST', headers: { authorization: `Bearer ${t.key}`, ...NDJSON }, body, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ rows: 2_500, created: 2_500, failed: 0, errors: [] })
    const found = await call(sys, 'GET', '/v1/leads?email=lead2499@example.com', { token: t.key })
    expect(found.body.data.map((l: any) => [l.first_name, l.last_name])).toEqual([['Zoë2499', '山田']])
  })
})

describe('limits, isolation and faults', () => {
  test(`more than ${MAX_IMPORT_ROWS} rows is 413 with nothing imported`, async () => {
    const t = await createTenant(sys)
    const text = `{"email":"first@example.com"}\n${'{}\n'.repeat(MAX_IMPORT_ROWS)}`
    const r = await importNdjson(t, text)
    expect(r.status).toBe(413)
    expect(r.body.detail).toContain(String(MAX_IMPORT_ROWS))
    expect(await allLeads(t)).toEqual([])
  }, 60_000)

  test('with an Idempotency-Key, a retry answers the first report again and writes nothing', async () => {
    const t = await createTenant(sys)
    const headers = { ...CSV, 'idempotency-key': 'import-2026-03-02' }
    const text = 'email,first_name\nana@example.com,Ana\nbo@example.com,Bo\n'
    const first = await call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: text, headers })
    expect(first.body).toMatchObject({ rows: 2, created: 2 })
    const leads = await allLeads(t)
    const again = await call(sys, 'POST', '/v1/leads/import', { token: t.key, rawBody: text, headers })
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([200, 'true'])
    expect(again.body).toEqual(first.body)
    expect(await allLeads(t)).toEqual(leads)
  })

  test('another Content-Type is 415', async () => {
    const t = await createTenant(sys)
    const r = await call(sys, 'POST', '/v1/leads/import', { token: t.key, body: [{ email: 'a@example.com' }] })
    expect(r.status).toBe(415)
    expect(await allLeads(t)).toEqual([])
  })

  test('an address another tenant has is created here, and theirs is untouched', async () => {
    const a = await createTenant(sys)
    const b = await createTenant(sys)
    await call(sys, 'POST', '/v1/leads', { token: a.key, body: { email: 'shared@example.com', first_name: 'A' } })
    expect((await importCsv(b, 'email,first_name\nshared@example.com,B\n')).body).toMatchObject({ created: 1, updated: 0 })
    expect(await byEmail(a)).toEqual({ 'shared@example.com': ['A', null] })
  })

  test('a suppressed address is imported and counted, and sending to it is still refused', async () => {
    const t = await createTenant(sys)
    expect((await call(sys, 'POST', '/v1/suppressions', { token: t.key, body: { email: 'gone@example.com' } })).status).toBe(201)
    const r = await importCsv(t, 'email\nGONE@example.com\nok@example.com\n')
    expect(r.body).toMatchObject({ created: 2, suppressed: 1, failed: 0 })
    const send = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { to_email: 'GONE@example.com' }) })
    expect(send.status).toBe(422)
  })

  test('a fault in a later batch leaves none of the import written', async () => {
    const t = await createTenant(sys)
    let upserts = 0
    const oltp = faultyDb(sys.tiers.oltp, (sql) => sql.includes('INSERT INTO oltp.leads AS l') && ++upserts === 2)
    const app = createApp(makeDeps({ ...sys.tiers, oltp }))
    const text = ['email', ...Array.from({ length: 1_500 }, (_, i) => `row${i}@example.com`)].join('\n')
    const res = await app.request('/v1/leads/import', { method: 'POST', headers: { authorization: `Bearer ${t.key}`, ...CSV }, body: text })
    expect(res.status).toBe(500)
    expect(upserts).toBe(2)
    expect(await allLeads(t)).toEqual([])
  })
})
