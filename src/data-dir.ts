/**
 * Embedded mode keeps the whole database and the admin token under DATA_DIR, so nothing there
 * may be readable by other users: directories 0700, files 0600. A directory made by an older
 * version (or by hand) is tightened at start; the umask makes what PGlite writes later (new
 * relation files, WAL segments) private as well, which no chmod at start could reach.
 */
import type { Stats } from 'node:fs'
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

const PRIVATE_UMASK = 0o077

/** Creates `path` (0700) or tightens it; with `tree`, everything under it too. Symbolic links inside are left alone. */
export async function privateDir(path: string, { tree = false } = {}): Promise<void> {
  process.umask(PRIVATE_UMASK)
  await mkdir(path, { recursive: true, mode: 0o700 })
  await tighten(path, await stat(path), tree)
}

/** DATA_DIR/pglite, created, or tightened with everything in it, before PGlite opens it. */
export async function pgliteDataDir(dataDir: string): Promise<string> {
  await privateDir(dataDir)
  const path = join(dataDir, 'pglite')
  await privateDir(path, { tree: true })
  return path
}

async function tighten(path: string, s: Stats, tree: boolean): Promise<void> {
  if (s.mode & PRIVATE_UMASK) await chmod(path, s.mode & 0o700)
  if (!tree || !s.isDirectory()) return
  for (const name of await readdir(path)) {
    const child = join(path, name)
    const cs = await lstat(child)
    if (!cs.isSymbolicLink()) await tighten(child, cs, true)
  }
}
