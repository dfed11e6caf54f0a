import { describe, expect, test } from 'bun:test'
import { buildPools, copyEscape, fill } from '../../datagen/bodies.ts'
import { World, type GenMessage } from '../../datagen/world.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

const options = { messages: 6000, tenants: 8, seed: 3 }

function all(o = options): GenMessage[] {
  const world = new World(o, 32)
  const out: GenMessage[] = []
  for (let m = world.next(); m; m = world.next()) out.push(m)
  return out
}

const shape = (m: GenMessage) => [m.id, m.tenant.id, m.mailbox.id, m.parentId, m.direction, m.messageType, m.subject, m.attachmentSize]

describe('benchmark data generator', () => {
  test('the same options give the same data; another seed gives other data', () => {
    const a = all()
    expect(a).toHaveLength(options.messages)
    expect(all().map(shape)).toEqual(a.map(shape))
    const other = all({ ...options, seed: 4 })
    expect(other.map((m) => m.id)).not.toEqual(a.map((m) => m.id))
  })

  test('ids are time-ordered UUIDv7, and every parent is an earlier message of the same tenant', () => {
    const messages = all()
    const seen = new Map<string, GenMessage>()
    for (const [i, m] of messages.entries()) {
      expect(m.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      if (i > 0) expect(m.id > messages[i - 1]!.id).toBe(true)
      if (m.parentId) expect(seen.get(m.parentId)?.tenant.id).toBe(m.tenant.id)
      seen.set(m.id, m)
    }
  })

  test('the mix is skewed and realistic: replies, bounces, ~10% attachments, a dominant tenant', () => {
    const messages = all()
    const share = (f: (m: GenMessage) => boolean) => messages.filter(f).length / messages.length
    expect(share((m) => m.direction === 'inbound')).toBeGreaterThan(0.1)
    expect(share((m) => m.messageType === 'bounce')).toBeGreaterThan(0.005)
    expect(share((m) => m.attachmentSize > 0)).toBeGreaterThan(0.07)
    expect(share((m) => m.attachmentSize > 0)).toBeLessThan(0.13)
    const perTenant = new Map<string, number>()
    for (const m of messages) perTenant.set(m.tenant.id, (perTenant.get(m.tenant.id) ?? 0) + 1)
    const sizes = [...perTenant.values()].sort((x, y) => y - x)
    expect(sizes[0]!).toBeGreaterThan(3 * sizes.at(-1)!)
  })

  test('bodies and headers are in the sizes the issue asks for, and escape cleanly for COPY', () => {
    const pools = buildPools(3, 24)
    for (const t of pools.text) expect(t.bytes).toBeGreaterThanOrEqual(1024)
    for (const t of pools.text) expect(t.bytes).toBeLessThan(5 * 1024 + 512)
    for (const h of pools.html) expect(h.bytes).toBeGreaterThanOrEqual(10 * 1024)
    for (const h of pools.html) expect(h.bytes).toBeLessThan(80 * 1024 + 2048)
    for (const h of pools.headers) expect(h.bytes).toBeGreaterThanOrEqual(1024)
    const headers = pools.headers[0]!
    const values = ['<a@b>', 'lead@example.org', 'Mon, 1 Jun 2026 10:00:00 GMT', 'tok']
    const parsed = JSON.parse(fill(headers, headers.raw, values)) as { name: string; value: string }[]
    expect(parsed.find((h) => h.name === 'Message-ID')?.value).toBe('<a@b>')
    expect(fill(headers, headers.copy, values)).toBe(copyEscape(fill(headers, headers.raw, values)))
    expect(copyEscape('a\\b\nc\td\r')).toBe('a\\\\b\\nc\\td\\r')
  })
})
