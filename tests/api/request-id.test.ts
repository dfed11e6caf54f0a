/**
 * X-Request-Id: a client's id is echoed only when it is a plain token (else the server answers
 * with its own), and the logs always carry the server's own id, with the client's beside it.
 */
import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { call } from '../support/api.ts'
import { captureLogs } from '../support/logs.ts'
import { makeDeps, useSystem } from '../support/system.ts'

const sys = useSystem()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The answered id and the request's log line, for a request sent with this X-Request-Id. */
async function ask(header?: string) {
  const logs = captureLogs()
  const app = createApp(makeDeps(sys.tiers, { log: logs.log }))
  const request = new Request('http://local/health')
  // Headers refuses CR/LF and non-Latin-1 values, which a lenient proxy or server may pass on: bypass it.
  if (header !== undefined) Object.defineProperty(request.headers, 'get', { value: (n: string) => (n.toLowerCase() === 'x-request-id' ? header : null) })
  const res = await app.fetch(request)
  const line = logs.lines.find((l) => l.msg === 'request')!
  return { id: res.headers.get('x-request-id')!, line, text: logs.text() }
}

describe('request ids', () => {
  test('a well-formed client id is echoed; the log carries the server id and the client id', async () => {
    const given = 'trace.A-1:b_2'
    const { id, line } = await ask(given)
    expect(id).toBe(given)
    expect(line.request_id).toMatch(UUID)
    expect(line.client_request_id).toBe(given)
  })

  test('without a client id the answer and the log carry the same server id', async () => {
    const { id, line } = await ask()
    expect(id).toMatch(UUID)
    expect(line.request_id).toBe(id)
    expect(line).not.toHaveProperty('client_request_id')
  })

  for (const [what, header] of [
    ['CR/LF', 'abc\r\nX-Injected: 1'],
    ['10 KB', 'a'.repeat(10 * 1024)],
    ['129 characters', 'a'.repeat(129)],
    ['non-ASCII', 'idé-ünïcode'],
    ['spaces', 'two words'],
    ['empty', ''],
  ] as const) {
    test(`a client id with ${what} is replaced by a server id and never logged`, async () => {
      const { id, line, text } = await ask(header)
      expect(id).toMatch(UUID)
      expect(line.request_id).toBe(id)
      expect(line).not.toHaveProperty('client_request_id')
      if (header) expect(text).not.toContain(header)
    })
  }

  test('a problem body quotes the id the client was answered with', async () => {
    const r = await call(sys, 'GET', '/v1/messages', { headers: { 'x-request-id': 'client-42' } })
    expect(r.status).toBe(401)
    expect(r.headers.get('x-request-id')).toBe('client-42')
    expect(r.body.request_id).toBe('client-42')
  })
})
