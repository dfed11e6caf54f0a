/**
 * `npm run bench`: every benchmark, side by side with its baseline, written to
 * bench/results/latest.json and latest.md. `-- --quick` runs each once on small data (CI keeps it
 * working; CI does not judge timings). `-- --only queue` runs one. `-- --compare FILE` sets this
 * run's ratios beside those of an earlier results file (the committed one is
 * bench/results/baseline.json).
 */
import { parseArgs } from 'node:util'
import { benchQueue } from './sections/queue.ts'
import { benchAnalytics } from './sections/analytics.ts'
import { benchInbound } from './sections/inbound.ts'
import { benchCompression } from './sections/compression.ts'
import { benchContent } from './sections/content.ts'
import { benchOltp } from './sections/oltp.ts'
import { benchWrite } from './sections/write.ts'
import { benchAccess } from './sections/access.ts'
import { benchPrune } from './sections/prune.ts'
import { compareWith, postgresVersion, writeResults, type Section } from './lib/report.ts'

const BENCHMARKS: Record<string, (o: { quick: boolean }) => Promise<Section>> = {
  queue: benchQueue,
  analytics: benchAnalytics,
  inbound: benchInbound,
  compression: benchCompression,
  content: benchContent,
  oltp: benchOltp,
  write: benchWrite,
  access: benchAccess,
  prune: benchPrune,
}

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, compare: { type: 'string' } },
})
const started = performance.now()
const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS)
const sections: Section[] = []
for (const name of names) {
  const run = BENCHMARKS[name]
  if (!run) throw new Error(`unknown benchmark ${name}; have ${Object.keys(BENCHMARKS).join(', ')}`)
  console.error(`running ${name}${values.quick ? ' (quick)' : ''}…`)
  const section = await run({ quick: values.quick })
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
