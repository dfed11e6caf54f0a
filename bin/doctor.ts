/**
 * `npm run doctor -- [--full] [--sample N] [--queue-max-age S] [--json]`: the cross-tier checks
 * (src/services/doctor.ts) against the tiers the environment names; exit 1 on any violation.
 * Embedded mode: the running process owns the PGlite data, so ask it instead
 * (GET /v1/admin/doctor); this opens the data itself only when nothing else has it open.
 */
import { commandLine, intOption, runCommand } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { reportLines, runDoctor } from '../src/services/doctor.ts'
import { buildDeps } from '../src/system.ts'

const cli = {
  name: 'doctor',
  usage: `usage: npm run doctor -- [--full] [--sample N] [--queue-max-age SECONDS] [--json]

Checks, on the tiers the *_DATABASE_URL variables (or DATA_DIR) name:
  refs_without_content       every ref whose content is present has its content row
  orphan_content             no message content older than CONTENT_ORPHAN_GRACE_S lacks its ref
  attachments_without_blob   every blob an attachment names exists
  analytics_recount          rollups equal a recount of the events (a sample of 200 keys, or --full),
                             and the views equal the rollups
  stale_queue_messages       no queue message older than --queue-max-age (3600 s)
  content_keys               every tenant's data key opens with CONTENT_MASTER_KEY (or the previous one)
Exit 0 when all hold, 1 on any violation, 2 on bad arguments or configuration, 3 when a database
cannot be reached.`,
}

const { values } = commandLine(cli, {
  full: { type: 'boolean' },
  sample: { type: 'string' },
  'queue-max-age': { type: 'string' },
  json: { type: 'boolean' },
})

await runCommand(cli, async () => {
  const opts = {
    full: values.full ?? false,
    sample: intOption('sample', values.sample, 200),
    queueMaxAgeS: intOption('queue-max-age', values['queue-max-age'], 3600),
  }
  const config = loadConfig()
  const tiers = await openTiers(config, 'edp-doctor')
  try {
    const report = await runDoctor(buildDeps(tiers, { config }), opts)
    console.log(values.json ? JSON.stringify(report, null, 2) : reportLines(report).join('\n'))
    return report.ok ? 0 : 1
  } finally {
    await tiers.close()
  }
})
