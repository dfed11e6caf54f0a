/**
 * What the runtimes (Bun, Deno, Node) do differently, settled once at load so nothing else under
 * src/ touches a runtime's own API.
 *
 * - zstd: Bun's own where it exists (scripts/zstd-compare.ts, in Bun: at level 3 it compresses
 *   20-35% and decompresses 20-55% faster than Bun's node:zlib), else node:zlib's (Deno, Node >=
 *   22.15). Both write libzstd's one-shot frame, content size in the header, so they produce the
 *   same bytes and read each other's: stored content stays readable whichever runtime wrote it.
 * - UUIDv7: one implementation everywhere (below), so every runtime gives the same ordering.
 */
import * as zlib from 'node:zlib'

export type RuntimeName = 'bun' | 'deno' | 'node'

/** The part of Bun's global this module uses. */
interface BunApi {
  zstdCompressSync(b: Uint8Array, o: { level: number }): Uint8Array
  zstdDecompressSync(b: Uint8Array): Uint8Array
}

const bun = (globalThis as { Bun?: BunApi }).Bun

export const runtime: RuntimeName = bun ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node'

export interface Zstd {
  readonly name: string
  compress(bytes: Uint8Array, level: number): Uint8Array
  decompress(bytes: Uint8Array): Uint8Array
}

/** Bun.zstd*Sync, when running on Bun. */
export const bunZstd: Zstd | undefined = bun && {
  name: 'bun',
  compress: (b, level) => bun.zstdCompressSync(b, { level }),
  decompress: (b) => bun.zstdDecompressSync(b),
}

/**
 * node:zlib's zstd, where the runtime has it. pledgedSrcSize puts the content size in the frame
 * header, as the one-shot API Bun uses does: without it Deno writes a header one byte shorter.
 */
export const nodeZstd: Zstd | undefined =
  typeof zlib.zstdCompressSync === 'function'
    ? {
        name: 'node:zlib',
        compress: (b, level) =>
          zlib.zstdCompressSync(b, { pledgedSrcSize: b.length, params: { [zlib.constants.ZSTD_c_compressionLevel]: level } }),
        decompress: (b) => zlib.zstdDecompressSync(b),
      }
    : undefined

const missingZstd = (): never => {
  throw new Error(`zstd needs Bun, Deno, or Node.js >= 22.15 (node:zlib zstd); this is ${runtime} ${globalThis.process?.version ?? ''}`)
}

/** The zstd every caller uses. Without one, only reading or writing a zstd body fails, with that reason. */
export const zstd: Zstd = bunZstd ?? nodeZstd ?? { name: 'none', compress: missingZstd, decompress: missingZstd }

// --- UUIDv7 (RFC 9562) ---------------------------------------------------------------------
//
// 48 bits of Unix milliseconds, version 7, a 12-bit counter (rand_a, RFC 9562 method 1), variant,
// 62 random bits. Each new millisecond starts the counter at a random value below 2048, so a
// millisecond has room for at least 2048 ids. While the clock stands still or steps back the
// counter goes on from the last id; when it runs out the timestamp moves a millisecond ahead. So
// ids made by one process are strictly increasing, as Bun.randomUUIDv7's are, which listings rely
// on: newest first is highest id first.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const pool = new Uint8Array(4096)
let poolAt = pool.length

function randomBytes(n: number): Uint8Array {
  if (poolAt + n > pool.length) {
    crypto.getRandomValues(pool)
    poolAt = 0
  }
  poolAt += n
  return pool.subarray(poolAt - n, poolAt)
}

/** A UUIDv7 source with its own counter over `now` (milliseconds since the epoch); tests pass a clock. */
export function uuidv7Generator(now: () => number = Date.now): () => string {
  let lastMs = -1
  let counter = 0
  return () => {
    const r = randomBytes(10)
    const t = now()
    if (t > lastMs) {
      lastMs = t
      counter = ((r[0]! << 8) | r[1]!) & 0x7ff
    } else if (++counter > 0xfff) {
      lastMs++
      counter = ((r[0]! << 8) | r[1]!) & 0x7ff
    }
    const hi = Math.floor(lastMs / 2 ** 16) // the top 32 of 48 bits: bitwise operators stop at 32
    const lo = lastMs % 2 ** 16
    const b = [hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 8, lo & 0xff]
    b.push(0x70 | (counter >>> 8), counter & 0xff, 0x80 | (r[2]! & 0x3f), r[3]!, r[4]!, r[5]!, r[6]!, r[7]!, r[8]!, r[9]!)
    const h = b.map((x) => HEX[x]!)
    return `${h[0]}${h[1]}${h[2]}${h[3]}-${h[4]}${h[5]}-${h[6]}${h[7]}-${h[8]}${h[9]}-${h[10]}${h[11]}${h[12]}${h[13]}${h[14]}${h[15]}`
  }
}

/** The process's ids: strictly increasing across every caller. */
export const uuidv7 = uuidv7Generator()

/** The millisecond timestamp a UUIDv7 carries. */
export const uuidv7Time = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16)

/** A promise that resolves after `ms` milliseconds (what Bun.sleep did). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
