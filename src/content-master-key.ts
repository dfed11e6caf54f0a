/**
 * The content master key: it wraps each tenant's data key (src/services/content-keys.ts) and is
 * never stored beside them. CONTENT_MASTER_KEY when set; embedded mode without one generates a
 * key once and keeps it in DATA_DIR/content-master-key (0600, like the admin token); server mode
 * requires it. A key is named by its fingerprint (the first 8 bytes of its sha256, hex), which is
 * stored beside every key it wraps, so a wrong master key is recognised and named, never guessed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError, isEmbedded, type Config } from './config.ts'
import { privateDir } from './data-dir.ts'

export interface MasterKey {
  fingerprint: string
  key: CryptoKey
}

export interface MasterKeys {
  current: MasterKey
  /** The key a rotation replaces, while data keys wrapped by it remain. */
  previous: MasterKey | null
  /** Embedded mode: the file the current key is kept in. */
  path?: string
  generated: boolean
}

export const fingerprintOf = (raw: Uint8Array) => createHash('sha256').update(raw).digest('hex').slice(0, 16)

export async function importMasterKey(base64: string): Promise<MasterKey> {
  const raw = new Uint8Array(Buffer.from(base64.trim(), 'base64'))
  if (raw.length !== 32) throw new ConfigError('invalid configuration:\n  CONTENT_MASTER_KEY: must be 32 bytes, base64')
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  const fingerprint = fingerprintOf(raw)
  raw.fill(0)
  return { fingerprint, key }
}

export const newMasterKeyText = () => randomBytes(32).toString('base64')

export const masterKeyPath = (dataDir: string) => join(dataDir, 'content-master-key')
export const previousMasterKeyPath = (dataDir: string) => join(dataDir, 'content-master-key.previous')

async function readKeyFile(path: string): Promise<string | undefined> {
  const text = (await readFile(path, 'utf8').catch(() => undefined))?.trim()
  if (!text) return undefined
  await chmod(path, 0o600)
  return text
}

/** Writes a key file only if none exists (two processes starting at once keep the first one's key). */
async function createKeyFile(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, `${text}\n`, { mode: 0o600, flag: 'wx' })
    return true
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return false
    throw err
  }
}

/** The master keys this process opens data keys with: from the environment, or DATA_DIR in embedded mode. */
export async function resolveMasterKeys(config: Config): Promise<MasterKeys> {
  const previousText = config.CONTENT_MASTER_KEY_PREVIOUS
  if (config.CONTENT_MASTER_KEY) {
    return {
      current: await importMasterKey(config.CONTENT_MASTER_KEY),
      previous: previousText ? await importMasterKey(previousText) : null,
      generated: false,
    }
  }
  if (!isEmbedded(config)) {
    throw new ConfigError('invalid configuration:\n  CONTENT_MASTER_KEY: required when the tiers are postgres:// URLs (32 bytes, base64: openssl rand -base64 32)')
  }
  await privateDir(config.DATA_DIR)
  const path = masterKeyPath(config.DATA_DIR)
  let text = await readKeyFile(path)
  let generated = false
  if (!text) {
    generated = await createKeyFile(path, newMasterKeyText())
    text = (await readKeyFile(path))!
  }
  const previousFile = await readKeyFile(previousMasterKeyPath(config.DATA_DIR))
  const prev = previousText ?? previousFile
  return { current: await importMasterKey(text), previous: prev ? await importMasterKey(prev) : null, path, generated }
}

/**
 * Embedded mode's first step of a rotation: the current key file becomes the previous one and a
 * new key takes its place (a crash between the two renames leaves both readable by the next start).
 */
export async function replaceEmbeddedMasterKey(dataDir: string): Promise<void> {
  const path = masterKeyPath(dataDir)
  const previous = previousMasterKeyPath(dataDir)
  if (await readKeyFile(previous)) throw new ConfigError(`a rotation is already under way: ${previous} exists; run rotate-master again to finish it`)
  if (await readKeyFile(path)) await rename(path, previous)
  await createKeyFile(path, newMasterKeyText())
}

/** Embedded mode's last step of a rotation: every data key is wrapped by the new key; the old one goes. */
export const dropEmbeddedPreviousKey = (dataDir: string) => rm(previousMasterKeyPath(dataDir), { force: true })

const encoder = new TextEncoder()
const wrapData = (tenantId: string, keyId: string) => encoder.encode(`edp-tenant-key-v1\0${tenantId}\0${keyId}`)

/** A data key wrapped by a master key: nonce (12 bytes) then AES-GCM ciphertext, bound to its tenant and key id. */
export async function wrapDataKey(master: MasterKey, tenantId: string, keyId: string, raw: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: wrapData(tenantId, keyId) }, master.key, raw as Uint8Array<ArrayBuffer>)
  const out = new Uint8Array(12 + sealed.byteLength)
  out.set(iv)
  out.set(new Uint8Array(sealed), 12)
  return out
}

/** The raw data key, or null when this master does not open it (wrong key, or the wrapped bytes were altered). */
export async function unwrapDataKey(master: MasterKey, tenantId: string, keyId: string, wrapped: Uint8Array): Promise<Uint8Array | null> {
  try {
    const iv = wrapped.subarray(0, 12) as Uint8Array<ArrayBuffer>
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: wrapData(tenantId, keyId) }, master.key, wrapped.subarray(12) as Uint8Array<ArrayBuffer>)
    return new Uint8Array(plain)
  } catch {
    return null
  }
}

/**
 * At the start of a process that serves content: server mode without CONTENT_MASTER_KEY is a
 * configuration error here, not a 503 at the first read; embedded mode makes its key now and says
 * where, once, since losing that file loses every body.
 */
export async function requireMasterKey(config: Config, log: { warn: (o: object, msg: string) => void }): Promise<void> {
  const master = await resolveMasterKeys(config)
  if (master.generated) {
    log.warn({ kept_in: master.path, fingerprint: master.current.fingerprint }, 'generated the content master key: back this file up apart from the data; without it no content can be read')
  }
}
