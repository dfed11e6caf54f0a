/**
 * `npm run dead-letters -- <command>`: inspect and replay jobs that exhausted their attempts.
 *   list [--queue NAME] [--limit N]   one line per dead letter
 *   show MSG_ID                       the whole record, with the original payload and last error
 *   requeue MSG_ID... | --all [--queue NAME]
 *                                     back onto their queue as fresh messages
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { getDeadLetter, listDeadLetters, requeueDeadLetters } from '../src/services/operations.ts'
import { buildDeps } from '../src/system.ts'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { queue: { type: 'string' }, limit: { type: 'string', default: '50' }, all: { type: 'boolean', default: false } },
})
const [command, ...ids] = positionals

async function run() {
  const config = loadConfig()
  const tiers = await openTiers(config, 'edp-cli')
  const deps = buildDeps(tiers, { config })
  try {
    switch (command) {
      case 'list': {
        const rows = await listDeadLetters(deps, { queue: values.queue, limit: Number(values.limit) })
        for (const r of rows) {
          const m = r.message
          console.log(`${r.msg_id}\t${m.failed_at}\t${m.queue}#${m.msg_id}\t${m.job}\t${(m.error ?? '').slice(0, 120)}`)
        }
        if (rows.length === 0) console.log('no dead letters')
        return 0
      }
      case 'show': {
        const row = ids[0] ? await getDeadLetter(deps, ids[0]) : undefined
        if (!row) {
          console.error(`no dead letter ${ids[0] ?? '(missing MSG_ID)'}`)
          return 1
        }
        console.log(JSON.stringify(row, null, 2))
        return 0
      }
      case 'requeue': {
        const targets = values.all
          ? (await listDeadLetters(deps, { queue: values.queue, limit: 10_000 })).map((r) => r.msg_id)
          : ids
        if (targets.length === 0) {
          console.error('name MSG_IDs to requeue, or --all')
          return 1
        }
        const done = await requeueDeadLetters(deps, targets)
        for (const r of done) console.log(`requeued dead letter ${r.dead_letter_id} as ${r.queue}#${r.msg_id}`)
        return done.length === targets.length ? 0 : 1
      }
      default:
        console.error('usage: dead-letters list [--queue NAME] | show MSG_ID | requeue MSG_ID... | requeue --all [--queue NAME]')
        return 2
    }
  } finally {
    await tiers.close()
  }
}

try {
  process.exit(await run())
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
}
