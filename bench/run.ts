/**
 * `npm run bench`: every benchmark, side by side with its baseline, written to
 * bench/results/latest.json and latest.md. `-- --quick` runs each once on small data (CI keeps it
 * working; CI does not judge timings). `-- --only queue` runs one. `-- --compare FILE` sets this
 * run's ratios beside those of an earlier results file (the committed one is
 * bench/results/baseline.json). `-- --cold` adds the cold-cache step, which restarts the local
 * PostgreSQL: only when asked, since that server is shared with everything else on the machine.
 * `-- --large` runs the legacy migration on the 1M-message dataset instead of 8,000 messages.
 */
import { commandLine, runCommand, UsageError } from '../src/cli.ts'
import { benchQueue } from './sections/queue.ts'
import { benchAnalytics } from './sections/analytics.ts'
import { benchInbound } from './sections/inbound.ts'
import { benchCompression } from './sections/compression.ts'
import { benchContent } from './sections/content.ts'
import { benchOltp } from './sections/oltp.ts'
import { benchWrite } from './sections/write.ts'
import { benchHttp } from './sections/http.ts'
import { benchAccess } from './sections/access.ts'
import { benchPrune } from './sections/prune.ts'
import { benchBackup } from './sections/backup.ts'
import { benchAudit } from './sections/audit.ts'
import { benchLegacy } from './sections/legacy.ts'
import { benchEncryption } from './sections/encryption.ts'
import { benchScale } from './sections/scale.ts'
import { compareWith, postgresVersion, writeResults, type Section } from './lib/report.ts'

const BENCHMARKS: Record<string, (o: { quick: boolean; cold: boolean; large: boolean }) => Promise<Section>> = {
  queue: benchQueue,
  analytics: benchAnalytics,
  inbound: benchInbound,
  compression: benchCompression,
  content: benchContent,
  oltp: benchOltp,
  write: benchWrite,
  http: benchHttp,
  access: benchAccess,
  prune: benchPrune,
  backup: benchBackup,
  audit: benchAudit,
  legacy: benchLegacy,
  encryption: benchEncryption,
  scale: benchScale,
}

const cli = {
  name: 'bench',
  usage: `usage: npm run bench [-- --quick] [--only NAME,...] [--compare FILE] [--cold] [--large]

Runs the benchmarks against the PostgreSQL at BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/postgres), each beside its baseline, and writes
bench/results/latest.json and latest.md (quick.* with --quick).

  --quick          small data, every benchmark once (what CI runs; it does not judge timings)
  --only NAMES     some sections, comma-separated: ${Object.keys(BENCHMARKS).join(', ')}
  --compare FILE   this run's ratios beside those of an earlier results file
  --cold           add the cold-cache rows of oltp: restarts the local PostgreSQL (pg_ctlcluster)
                   and drops the OS page cache, as root. Off unless given: the server is shared.
  --large          legacy migrates the 1M-message dataset (npm run gen -- --messages 1000000, the
                   one oltp uses; built here if missing, 35 minutes) instead of 8,000 messages:
                   about 25 minutes more`,
}

const { values } = commandLine(cli, {
  quick: { type: 'boolean', default: false },
  only: { type: 'string' },
  compare: { type: 'string' },
  cold: { type: 'boolean', default: false },
  large: { type: 'boolean', default: false },
})

await runCommand(cli, async () => {
  const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS)
  const unknown = names.filter((n) => !BENCHMARKS[n])
  if (unknown.length) throw new UsageError(`unknown benchmark ${unknown.join(', ')}; have ${Object.keys(BENCHMARKS).join(', ')}`)
  // It was an environment switch once; one left in a shell must not restart a shared server.
  if (process.env.BENCH_COLD !== undefined) console.error('BENCH_COLD is no longer read: pass --cold to restart PostgreSQL for the cold-cache rows')
  const started = performance.now()
  const sections: Section[] = []
  for (const name of names) {
    console.error(`running ${name}${values.quick ? ' (quick)' : ''}${values.cold && name === 'oltp' ? ' (cold)' : ''}…`)
    const section = await BENCHMARKS[name]!({ quick: values.quick, cold: values.cold, large: values.large })
    sections.push(section)
    console.log(JSON.stringify(section.data))
  }
  const { path, table } = await writeResults(values.quick ? 'quick' : 'latest', sections, {
    quick: values.quick,
    postgres: await postgresVersion(),
    seconds: Math.round((performance.now() - started) / 1000),
  })
  console.log(`\n${table}\n\nwritten to ${path}`)
  if (values.compare) console.log(`\n${await compareWith(values.compare, sections)}`)
})
