import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import type { Queryable } from './types.ts'

/** The pgmq release we run everywhere; its SQL ships inside @electric-sql/pglite-pgmq. */
const PGMQ_VERSION = '1.11.1'

/**
 * Installs pgmq in the queue tier. PGlite loads the extension bundle, so CREATE EXTENSION works.
 * On PostgreSQL we prefer the server's extension; a server without it gets pgmq's own SQL script,
 * which is written to install as plain SQL (schema pgmq, no C code).
 */
export async function installPgmq(q: Queryable, engine: 'pglite' | 'postgres'): Promise<void> {
  if (engine === 'pglite') {
    await q.exec('CREATE EXTENSION IF NOT EXISTS pgmq')
    return
  }
  const [state] = await q.query<{ installed: boolean; available: boolean }>(`
    SELECT to_regclass('pgmq.meta') IS NOT NULL AS installed,
           EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq') AS available`)
  if (state?.installed) return
  if (state?.available) {
    await q.exec('CREATE EXTENSION IF NOT EXISTS pgmq')
    return
  }
  await q.exec(await bundledPgmqSql())
}

async function bundledPgmqSql(): Promise<string> {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('@electric-sql/pglite-pgmq/package.json')
  const tarball = gunzipSync(await readFile(new URL('dist/pgmq.tar.gz', `file://${pkg}`)))
  const name = `pgmq--${PGMQ_VERSION}.sql`
  const file = findInTar(tarball, (path) => path.endsWith(`/${name}`))
  if (!file) throw new Error(`${name} not found in @electric-sql/pglite-pgmq`)
  return new TextDecoder().decode(file)
}

/** Minimal ustar reader: 512-byte headers, name at 0, octal size at 124, data padded to 512. */
function findInTar(tar: Uint8Array, match: (path: string) => boolean): Uint8Array | undefined {
  const text = new TextDecoder()
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((b) => b === 0)) return undefined
    const field = (start: number, len: number) => text.decode(header.subarray(start, start + len)).replace(/\0.*$/s, '')
    const prefix = field(345, 155)
    const path = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)
    const size = Number.parseInt(field(124, 12).trim() || '0', 8)
    const start = offset + 512
    if (match(path)) return tar.subarray(start, start + size)
    offset = start + Math.ceil(size / 512) * 512
  }
  return undefined
}
