/** File modes under a directory that give group or other users any access: "path mode" each, empty when all are private. */
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

export async function modesOpenToOthers(root: string): Promise<string[]> {
  const open: string[] = []
  const walk = async (path: string): Promise<void> => {
    const s = await lstat(path)
    if (s.isSymbolicLink()) return
    if (s.mode & 0o077) open.push(`${path} ${(s.mode & 0o777).toString(8)}`)
    if (s.isDirectory()) for (const e of await readdir(path)) await walk(join(path, e))
  }
  await walk(root)
  return open
}
