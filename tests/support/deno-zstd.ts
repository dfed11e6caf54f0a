/**
 * Run by Deno from tests/runtime.test.ts: reads a zstd frame Bun wrote (the file named by its argument),
 * and answers on stdout which implementation src/runtime.ts picked here, what the frame holds, and
 * that content compressed again at level 3, as base64.
 */
import { readFileSync } from 'node:fs'
import { runtime, zstd } from '../../src/runtime.ts'

const frame = new Uint8Array(readFileSync(process.argv.at(-1)!))
const content = zstd.decompress(frame)
const again = zstd.compress(content, 3)
console.log(JSON.stringify({ runtime, zstd: zstd.name, content: new TextDecoder().decode(content), again: Buffer.from(again).toString('base64') }))
