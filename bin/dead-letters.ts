/**
 * `npm run dead-letters -- <command>`: inspect and replay jobs that exhausted their attempts.
 * Prints to stdout; exits 1 when what was asked for is not there.
 */
import { commandLine, intOption, runCommand, UsageError } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { getDeadLetter, listDeadLetters, requeueDeadLetters } from '../src/services/operations.ts'
import { buildDeps } from '../src/system.ts'

const cli = {
  name: 'dead-letters',
  usage: `usage: npm run dead-letters -- list [--queue NAME] [--limit N] | show MSG_ID | requeue MSG_ID... | requeue --all [--queue NAME]

  list      one line per dead letter: its id, when it failed, queue#message, job, last error
  show      the whole record, with the original payload and the last error
  requeue   back onto their queue as fresh messages (attempts start over)

  --queue NAME   only dead letters from this queue (jobs, events)
  --limit N      at most N lines (list; default 50)
  --all          every dead letter (requeue), of --queue if given`,
}

const { positionals, values } = commandLine(
  cli,
  { queue: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean', default: false } },
  { positionals: true },
)
const [command, ...ids] = positionals

await runCommand(cli, async () => {
  if (!command || !['list', 'show', 'requeue'].includes(command)) throw new UsageError(command ? `unknown command ${command}` : 'name a command')
  if (command === 'show' && ids.length !== 1) throw new UsageError('show takes one MSG_ID')
  if (command === 'requeue' && !values.all && ids.length === 0) throw new UsageError('name MSG_IDs to requeue, or --all')
  if (command === 'list' && ids.length) throw new UsageError(`list takes no MSG_ID (got ${ids[0]})`)
  const limit = intOption('limit', values.limit, 50)

  const config = loadConfig()
  const tiers = await openTiers(config, 'edp-cli')
  const deps = buildDeps(tiers, { config })
  try {
    if (command === 'list') {
      const rows = await listDeadLetters(deps, { queue: values.queue, limit })
      for (const r of rows) {
        const m = r.message
        console.log(`${r.msg_id}\t${m.failed_at}\t${m.queue}#${m.msg_id}\t${m.job}\t${(m.error ?? '').slice(0, 120)}`)
      }
      if (rows.length === 0) console.log('no dead letters')
      return 0
    }
    if (command === 'show') {
      const row = await getDeadLetter(deps, ids[0]!)
      if (!row) {
        console.error(`no dead letter ${ids[0]}`)
        return 1
      }
      console.log(JSON.stringify(row, null, 2))
      return 0
    }
    const targets = values.all ? (await listDeadLetters(deps, { queue: values.queue, limit: 10_000 })).map((r) => r.msg_id) : ids
    if (targets.length === 0) {
      console.log('no dead letters to requeue')
      return 0
    }
    const done = await requeueDeadLetters(deps, targets)
    for (const r of done) console.log(`requeued dead letter ${r.dead_letter_id} as ${r.queue}#${r.msg_id}`)
    return done.length === targets.length ? 0 : 1
  } finally {
    await tiers.close()
  }
})
