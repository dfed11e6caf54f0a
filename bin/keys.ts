/**
 * `npm run keys -- status | rotate-master`: the content master key (README, Privacy).
 * status         keys per master fingerprint, destroyed ones, and rows not yet encrypted.
 * rotate-master  re-wraps every tenant's data key under the current master key; content is not
 *                touched. Server mode: CONTENT_MASTER_KEY is the new key and
 *                CONTENT_MASTER_KEY_PREVIOUS the old one. Embedded mode (server stopped): a new key
 *                is generated in DATA_DIR and the old one removed once every key is re-wrapped.
 * Exits 1 when a key is wrapped by a master it was not given (named by fingerprint).
 */
import { commandLine, runCommand, UsageError } from '../src/cli.ts'
import { isEmbedded, loadConfig } from '../src/config.ts'
import { dropEmbeddedPreviousKey, previousMasterKeyPath, replaceEmbeddedMasterKey, resolveMasterKeys } from '../src/content-master-key.ts'
import { migrateAll } from '../src/db/migrate.ts'
import { openTiers } from '../src/db/tiers.ts'
import { keyStatus, rewrapAll } from '../src/services/key-rotation.ts'
import { existsSync } from 'node:fs'

const cli = {
  name: 'keys',
  usage: `usage: npm run keys -- status | rotate-master

  status          data keys per master-key fingerprint (and destroyed ones), rows not yet encrypted
  rotate-master   re-wrap every tenant's data key under the current master key (content is not re-encrypted)
                  server mode: set CONTENT_MASTER_KEY to the new key and CONTENT_MASTER_KEY_PREVIOUS to the old one
                  embedded mode: stop the server; a new key replaces DATA_DIR/content-master-key`,
}

const { positionals } = commandLine(cli, {}, { positionals: true })
const [command, ...rest] = positionals

await runCommand(cli, async () => {
  if (!command || !['status', 'rotate-master'].includes(command)) throw new UsageError(command ? `unknown command ${command}` : 'name a command')
  if (rest.length) throw new UsageError(`${command} takes no arguments (got ${rest[0]})`)
  const config = loadConfig()
  const embedded = isEmbedded(config) && !config.CONTENT_MASTER_KEY
  if (command === 'rotate-master' && !embedded && !config.CONTENT_MASTER_KEY_PREVIOUS) {
    throw new UsageError('set CONTENT_MASTER_KEY to the new key and CONTENT_MASTER_KEY_PREVIOUS to the key it replaces')
  }
  const tiers = await openTiers(config, 'edp-keys')
  try {
    if (config.MIGRATE_ON_START) await migrateAll(tiers) // as a process starting would: a fresh DATA_DIR has no tables yet
    if (command === 'status') {
      const master = await resolveMasterKeys(config).catch(() => null)
      console.log(JSON.stringify(await keyStatus(tiers.content, master), null, 2))
      return 0
    }
    // Embedded: a rotation that crashed left the previous file; it is finished with the key already made.
    if (embedded && !existsSync(previousMasterKeyPath(config.DATA_DIR))) await replaceEmbeddedMasterKey(config.DATA_DIR)
    const master = await resolveMasterKeys(config)
    const done = await rewrapAll(tiers.content, master)
    for (const u of done.unknown) console.error(`tenant ${u.tenant_id}: its data key is wrapped by master ${u.master_fingerprint}, which is neither key given`)
    console.log(`re-wrapped ${done.rewrapped} data keys under master ${master.current.fingerprint}`)
    if (done.unknown.length > 0) return 1
    if (embedded) {
      await dropEmbeddedPreviousKey(config.DATA_DIR)
      console.log(`the previous master key was removed from ${config.DATA_DIR}`)
    } else {
      console.log('every data key opens with CONTENT_MASTER_KEY alone: remove CONTENT_MASTER_KEY_PREVIOUS from every process, restart them, then destroy the old key')
    }
    return 0
  } finally {
    await tiers.close()
  }
})
