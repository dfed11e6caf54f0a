/**
 * Codecs for message bodies on a realistic corpus: stored bytes, compression and decompression
 * speed for none, gzip and zstd at the levels we would use for hot writes and for the warm archive.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { corpus } from '../../datagen/corpus.ts'
import { round } from '../lib/stats.ts'
import type { Row, Section } from '../lib/report.ts'

type Codec = { name: string; compress: (b: Uint8Array) => Uint8Array; decompress: (b: Uint8Array) => Uint8Array }

const CODECS: Codec[] = [
  { name: 'none', compress: (b) => b, decompress: (b) => b },
  { name: 'gzip-6', compress: (b) => gzipSync(b, { level: 6 }), decompress: (b) => gunzipSync(b) },
  { name: 'gzip-9', compress: (b) => gzipSync(b, { level: 9 }), decompress: (b) => gunzipSync(b) },
  { name: 'zstd-3', compress: (b) => Bun.zstdCompressSync(b, { level: 3 }), decompress: (b) => Bun.zstdDecompressSync(b) },
  { name: 'zstd-9', compress: (b) => Bun.zstdCompressSync(b, { level: 9 }), decompress: (b) => Bun.zstdDecompressSync(b) },
  { name: 'zstd-19', compress: (b) => Bun.zstdCompressSync(b, { level: 19 }), decompress: (b) => Bun.zstdDecompressSync(b) },
]

export async function benchCompression({ quick = false } = {}): Promise<Section> {
  const enc = new TextEncoder()
  const bodies = corpus(quick ? 50 : 400).map((b) => enc.encode(b.html + b.text))
  const raw = bodies.reduce((s, b) => s + b.length, 0)
  const results = CODECS.map((codec) => {
    let t0 = performance.now()
    const packed = bodies.map((b) => codec.compress(b))
    const compressS = (performance.now() - t0) / 1000
    t0 = performance.now()
    for (const p of packed) codec.decompress(p)
    const decompressS = (performance.now() - t0) / 1000
    const stored = packed.reduce((s, p) => s + p.length, 0)
    return {
      codec: codec.name,
      ratio: round(raw / stored, 2),
      stored_bytes: stored,
      compress_mb_s: round(raw / 1e6 / compressS, 0),
      decompress_mb_s: round(raw / 1e6 / decompressS, 0),
    }
  })
  const gzip = results.find((r) => r.codec === 'gzip-6')!
  const rows: Row[] = results.map((r) => ({
    benchmark: 'body compression',
    case: `${bodies.length} bodies, ${round(raw / bodies.length / 1024, 1)} KB mean, ${r.codec}`,
    ours: `${r.ratio}x smaller; ${r.compress_mb_s} MB/s in, ${r.decompress_mb_s} MB/s out`,
    baseline: `gzip-6 ${gzip.ratio}x, ${gzip.compress_mb_s} MB/s in`,
    ratio: r.compress_mb_s / gzip.compress_mb_s,
  }))
  return { name: 'compression', rows, data: { bodies: bodies.length, raw_bytes: raw, results } }
}
