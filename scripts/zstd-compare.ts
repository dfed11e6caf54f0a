/**
 * Side by side: the zstd implementations src/runtime.ts can pick (Bun's own, node:zlib's) on the
 * benchmark corpus, at the hot level (3) and the archive level (19): speed in and out, stored
 * bytes, and a hash of the output, equal across implementations and runtimes when they write the
 * same bytes. Best of 5 (1 at level 19) after a warm-up.
 *
 *   bun scripts/zstd-compare.ts
 *   node_modules/.bin/deno run --allow-read --allow-env scripts/zstd-compare.ts
 */
import { createHash } from 'node:crypto'
import { corpus } from '../datagen/corpus.ts'
import { bunZstd, nodeZstd, runtime, type Zstd } from '../src/runtime.ts'

const enc = new TextEncoder()
const bodies = corpus(400).map((b) => enc.encode(b.html + b.text))
const raw = bodies.reduce((s, b) => s + b.length, 0)
const mbPerS = (ms: number) => (raw / 1e6 / (ms / 1000)).toFixed(0)
const impls = [bunZstd, nodeZstd].filter((z): z is Zstd => z !== undefined)

console.log(`${runtime}: ${bodies.length} bodies, ${(raw / 1e6).toFixed(1)} MB`)
for (const level of [3, 19]) {
  for (const z of impls) {
    for (const b of bodies.slice(0, 50)) z.decompress(z.compress(b, level))
    let inMs = Infinity
    let outMs = Infinity
    let packed: Uint8Array[] = []
    for (let rep = 0; rep < (level === 3 ? 5 : 1); rep++) {
      let t = performance.now()
      packed = bodies.map((b) => z.compress(b, level))
      inMs = Math.min(inMs, performance.now() - t)
      t = performance.now()
      for (const p of packed) z.decompress(p)
      outMs = Math.min(outMs, performance.now() - t)
    }
    const hash = createHash('sha256')
    for (const p of packed) hash.update(p)
    const stored = packed.reduce((s, p) => s + p.length, 0)
    console.log(
      `  zstd-${level} ${z.name.padEnd(9)} ${mbPerS(inMs).padStart(4)} MB/s in, ${mbPerS(outMs).padStart(5)} MB/s out, ` +
        `${stored} bytes stored, sha256 ${hash.digest('hex').slice(0, 12)}`,
    )
  }
}
