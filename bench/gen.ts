/**
 * `npm run gen -- --messages N [--tenants T] [--seed S] [--database NAME] [--force]`: generates a
 * deterministic email platform (same options, same data) and loads it into both designs on the
 * benchmark PostgreSQL server (BENCH_PG_URL). `npm run bench` reuses it when the options match.
 * Nothing happens without --messages, and a database the benchmarks did not make is never
 * dropped without --force.
 */
import { commandLine, intOption, runCommand, UsageError } from '../src/cli.ts'
import { generate, NotOurDatabaseError } from './dataset/load.ts'

const cli = {
  name: 'gen',
  usage: `usage: npm run gen -- --messages N [--tenants T] [--seed S] [--database NAME] [--force]

Builds a deterministic email platform (the same options give the same data) and loads it into
the 4-tier tables and the legacy emails table of one database on the benchmark server
(BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres). The database is dropped and
rebuilt; \`npm run bench\` reuses it while the options match. 1,000,000 messages took 35 minutes here.

  --messages N      how many messages (required: nothing is touched without it)
  --tenants T       how many tenants (default 50)
  --seed S          the generator's seed (default 1)
  --database NAME   the database to (re)build (default edp_bench_dataset)
  --force           drop NAME even when it exists and the benchmarks did not make it`,
}

const { values } = commandLine(cli, {
  messages: { type: 'string' },
  tenants: { type: 'string' },
  seed: { type: 'string' },
  database: { type: 'string', default: 'edp_bench_dataset' },
  force: { type: 'boolean', default: false },
})

await runCommand(cli, async () => {
  if (values.messages === undefined) throw new UsageError('--messages N is required')
  const options = {
    messages: intOption('messages', values.messages, 0),
    tenants: intOption('tenants', values.tenants, 50),
    seed: intOption('seed', values.seed, 1, 0),
  }
  try {
    console.log(JSON.stringify(await generate(options, values.database, { force: values.force }), null, 2))
  } catch (err) {
    if (err instanceof NotOurDatabaseError) throw new UsageError(err.message)
    throw err
  }
})
