/**
 * `npm run doctor -- [--full] [--sample N] [--queue-max-age S] [--json]`: the cross-tier checks
 * (src/services/doctor.ts) against the tiers the environment names; exit 1 on any violation.
 * Embedded mode: the running process owns the PGlite data, so ask it instead
 * (GET /v1/admin/doctor); this opens the data itself only when nothing else has it open.
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { runDoctor } from '../src/services/doctor.ts'
import { buildDeps } from '../src/system.ts'

const USAGE = 'usage: npm run doctor -- [--full] [--sample N] [--queue-max-age SECONDS] [--json]'

function args() {
  try {
    return parseArgs({
      strict: true,
      options: {
        full: { type: 'boolean', default: false },
        sample: { type: 'string' },
        'queue-max-age': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`)
    process.exit(2)
  }
}

const positive = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive whole number\n${USAGE}`)
    process.exit(2)
  }
  return n
}

async function main() {
  const values = args()
  if (values.help) {
    console.log(`${USAGE}

Checks, on the tiers the *_DATABASE_URL variables (or DATA_DIR) name:
  refs_without_content       every ref whose content is present has its content row
  orphan_content             no message content older than CONTENT_ORPHAN_GRACE_S lacks its ref
  attachments_without_blob   every blob an attachment names exists
  analytics_recount          rollups equal a recount of the events (a sample of 200 keys, or --full),
                             and the views equal the rollups
  stale_queue_messages       no queue message older than --queue-max-age (3600 s)
Exit 0 when all hold, 1 on any violation, 2 on bad arguments or configuration.`)
    return 0
  }
  const opts = { full: values.full, sample: positive('sample', values.sample), queueMaxAgeS: positive('queue-max-age', values['queue-max-age']) }
  const config = loadConfig()
  const tiers = await openTiers(config, 'edp-doctor')
  try {
    const report = await runDoctor(buildDeps(tiers, { config }), opts)
    if (values.json) console.log(JSON.stringify(report, null, 2))
    else {
      for (const c of report.checks) {
        console.log(`${c.violations === 0 ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(26)} ${String(c.violations).padStart(6)} of ${c.checked}`)
        for (const e of c.examples) console.log(`        ${e}`)
      }
      console.log(report.ok ? 'all invariants hold' : 'violations found')
    }
    return report.ok ? 0 : 1
  } finally {
    await tiers.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `doctor failed: ${(err as Error).message}`)
    process.exit(2)
  },
)
