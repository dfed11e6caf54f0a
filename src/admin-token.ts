import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ConfigError, isEmbedded, type Config } from './config.ts'
import { privateDir } from './data-dir.ts'

/**
 * ADMIN_TOKEN when set. Embedded mode without one generates a token once and keeps it in
 * DATA_DIR/admin-token (mode 0600, in a 0700 DATA_DIR), so it survives restarts; server mode requires it.
 */
export async function resolveAdminToken(config: Config): Promise<{ token: string; generated: boolean; path?: string }> {
  if (config.ADMIN_TOKEN) return { token: config.ADMIN_TOKEN, generated: false }
  if (!isEmbedded(config)) throw new ConfigError('invalid configuration:\n  ADMIN_TOKEN: required when the tiers are postgres:// URLs')
  await privateDir(config.DATA_DIR)
  const path = join(config.DATA_DIR, 'admin-token')
  const existing = await readFile(path, 'utf8').catch(() => undefined)
  if (existing?.trim()) {
    await chmod(path, 0o600) // written readable by an older version
    return { token: existing.trim(), generated: false, path }
  }
  const token = `adm_${randomBytes(24).toString('base64url')}`
  await writeFile(path, `${token}\n`, { mode: 0o600 })
  return { token, generated: true, path }
}
