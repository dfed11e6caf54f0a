/**
 * src/runtime.ts: ids keep the order listings rely on (newest first = highest id, within one
 * millisecond too), and the zstd implementations write the same bytes and read each other's, so
 * content stored by one runtime reads back on another.
 */
import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { corpus } from '../datagen/corpus.ts'
import { isUuid, newId } from '../src/ids.ts'
import { bunZstd, nodeZstd, runtime, uuidv7, uuidv7Generator, uuidv7Time, zstd } from '../src/runtime.ts'
import { packBody, unpackBody } from '../src/tiers/content/codec.ts'
import { useSystem } from './support/system.ts'

const system = useSystem() // one query below needs a database; it also runs the leak check

const increasing = (ids: string[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]!)
const counterOf = (id: string) => parseInt(id.slice(15, 18), 16)

describe('uuidv7', () => {
  test('RFC 9562 layout: version 7, variant 10, the current millisecond, lowercase', () => {
    const before = Date.now()
    const id = uuidv7()
    const after = Date.now()
    expect(isUuid(id)).toBe(true)
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(uuidv7Time(id)).toBeGreaterThanOrEqual(before)
    expect(uuidv7Time(id)).toBeLessThanOrEqual(after + 1) // +1: a counter overflow may borrow the next millisecond
  })

  test('ids from newId in a tight loop are strictly increasing and distinct', () => {
    const ids = Array.from({ length: 20_000 }, newId)
    expect(increasing(ids)).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('within one millisecond: strictly increasing, and past the counter the timestamp moves on', () => {
    const next = uuidv7Generator(() => 1_700_000_000_000)
    const ids = Array.from({ length: 10_000 }, next)
    expect(increasing(ids)).toBe(true)
    expect(uuidv7Time(ids[0]!)).toBe(1_700_000_000_000)
    // The counter starts below 2048 each millisecond, so at least 2048 ids fit before the borrow.
    expect(counterOf(ids[0]!)).toBeLessThan(0x800)
    expect(ids.slice(0, 2048).every((id) => uuidv7Time(id) === 1_700_000_000_000)).toBe(true)
    expect(uuidv7Time(ids.at(-1)!)).toBeGreaterThan(1_700_000_000_000)
  })

  test('a clock that steps back never makes a smaller id', () => {
    let now = 1_700_000_000_500
    const next = uuidv7Generator(() => now)
    const a = next()
    now -= 400 // NTP correction
    const b = next()
    now += 1000
    const c = next()
    expect(increasing([a, b, c])).toBe(true)
    expect(uuidv7Time(b)).toBe(1_700_000_000_500)
    expect(uuidv7Time(c)).toBe(1_700_000_001_100)
  })

  test('a new millisecond starts a new random counter (the random tail differs every time)', () => {
    let now = 1_700_000_000_000
    const next = uuidv7Generator(() => now++)
    const ids = Array.from({ length: 200 }, next)
    expect(increasing(ids)).toBe(true)
    expect(ids.every((id) => counterOf(id) < 0x800)).toBe(true)
    expect(new Set(ids.map(counterOf)).size).toBeGreaterThan(100)
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length)
  })

  test.skipIf(runtime !== 'bun')('ordered with the ids Bun.randomUUIDv7 made before (stored rows keep their place)', () => {
    const older = Bun.randomUUIDv7('hex', Date.now() - 1)
    expect(uuidv7() > older).toBe(true)
  })
})

describe('uuidv7 in the database', () => {
  test('PostgreSQL orders them as they were made (uuid comparison, as keyset pagination uses)', async () => {
    const next = uuidv7Generator(() => 1_700_000_000_000)
    const ids = Array.from({ length: 300 }, next)
    const shuffled = [...ids].sort(() => Math.random() - 0.5)
    const [row] = await system.deps.tiers.oltp.query<{ ids: string[] }>(
      'SELECT array_agg(id ORDER BY id) AS ids FROM unnest($1::uuid[]) AS id',
      [shuffled],
    )
    expect(row!.ids).toEqual(ids)
  })
})

describe('zstd', () => {
  const enc = new TextEncoder()
  const bodies = corpus(20).map((b) => enc.encode(b.html + b.text))
  const both = bunZstd && nodeZstd ? [bunZstd, nodeZstd] : []

  test('this runtime has one; on Bun it is Bun’s own (measured faster)', () => {
    expect(zstd.name).not.toBe('none')
    if (runtime === 'bun') expect(zstd).toBe(bunZstd!)
  })

  test.skipIf(both.length < 2)('Bun’s and node:zlib’s write the same bytes and read each other’s, at the hot and the archive level', () => {
    for (const level of [3, 19]) {
      for (const body of bodies.slice(0, level === 19 ? 5 : 20)) {
        const [a, b] = both.map((z) => z.compress(body, level))
        expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(true)
        for (const writer of both) {
          for (const reader of both) expect(Buffer.from(reader.decompress(writer.compress(body, level))).equals(Buffer.from(body))).toBe(true)
        }
      }
    }
  })

  test.skipIf(both.length < 2)('a body packed by one implementation unpacks through the codec whichever wrote it', () => {
    const html = new TextDecoder().decode(bodies[0])
    const packed = packBody('plain text '.repeat(200), html, 1024)
    expect(packed.compression_type).toBe('zstd')
    // The same row as node:zlib would have written it.
    const byNode = { text: nodeZstd!.compress(enc.encode('plain text '.repeat(200)), 3), html: nodeZstd!.compress(enc.encode(html), 3) }
    expect(Buffer.from(packed.html_packed!).equals(Buffer.from(byNode.html))).toBe(true)
    const row = { compression_type: 'zstd' as const, content_text: null, content_html: null, content_text_packed: byNode.text, content_html_packed: byNode.html }
    expect(unpackBody(row)).toEqual({ content_text: 'plain text '.repeat(200), content_html: html })
  })

  test.skipIf(runtime !== 'bun')('under Deno it is node:zlib’s, reads the frame Bun wrote, and writes the same bytes back', async () => {
    const html = new TextDecoder().decode(bodies[1])
    const frame = bunZstd!.compress(enc.encode(html), 3)
    const dir = await mkdtemp(join(tmpdir(), 'edp-zstd-'))
    try {
      await writeFile(join(dir, 'frame.zst'), frame)
      const deno = Bun.spawn([join(import.meta.dir, '..', 'node_modules', '.bin', 'deno'), 'run', '--allow-read', '--allow-env', join(import.meta.dir, 'support', 'deno-zstd.ts'), join(dir, 'frame.zst')], {
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [out, err, code] = await Promise.all([new Response(deno.stdout).text(), new Response(deno.stderr).text(), deno.exited])
      expect({ code, err }).toEqual({ code: 0, err: '' })
      const answer = JSON.parse(out) as { runtime: string; zstd: string; content: string; again: string }
      expect([answer.runtime, answer.zstd]).toEqual(['deno', 'node:zlib'])
      expect(answer.content).toBe(html)
      expect(Buffer.from(answer.again, 'base64').equals(Buffer.from(frame))).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
