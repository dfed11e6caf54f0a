/**
 * `npm run citus -- start|stop|status|destroy`: the local Citus cluster (scripts/citus/cluster.ts),
 * a coordinator and workers on free loopback ports under one directory.
 */
import { resolve } from 'node:path'
import { commandLine, intOption, runCommand, UsageError } from '../src/cli.ts'
import { ClusterError, clusterStatus, destroyCluster, loadCluster, startCluster, stopCluster } from './citus/cluster.ts'

const DEFAULT_DATABASES = ['edp_oltp', 'edp_content']

const cli = {
  name: 'citus',
  usage: `usage: npm run citus -- <start|stop|status|destroy> [--dir DIR] [--workers N] [--database NAME ...] [--json]

A local Citus 12 cluster on PostgreSQL 15: a coordinator and --workers (2) workers, each on a free
loopback port, with shared_preload_libraries = citus; every node's data and cluster.json live under
--dir (CITUS_DIR, else .citus in the current directory).
  start    make the cluster if --dir holds none, start its nodes, make the databases (--database,
           repeatable; default ${DEFAULT_DATABASES.join(' and ')}) on every node with the workers
           registered, and print the URLs for OLTP_DATABASE_URL and CONTENT_DATABASE_URL
  stop     stop every node; the data stays
  status   each node's port and whether it runs; exit 1 when one is down
  destroy  stop the nodes and delete --dir
Needs the Citus extension: ../shared/citus/install.sh installs it.`,
}

const { values, positionals } = commandLine(
  cli,
  {
    dir: { type: 'string' },
    workers: { type: 'string' },
    database: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  { positionals: true },
)

await runCommand(cli, async () => {
  const [verb, ...rest] = positionals
  if (rest.length > 0) throw new UsageError(`one verb only, not ${positionals.join(' ')}`)
  const dir = resolve(values.dir ?? process.env.CITUS_DIR ?? '.citus')
  try {
    switch (verb) {
      case 'start': {
        const c = await startCluster(dir, { workers: intOption('workers', values.workers, 2), databases: values.database ?? DEFAULT_DATABASES })
        const [oltp, content] = values.database ? [c.databases[0]!, c.databases[1] ?? c.databases[0]!] : DEFAULT_DATABASES
        console.log(`citus: coordinator 127.0.0.1:${c.coordinator.port}, workers ${c.workers.map((w) => `127.0.0.1:${w.port}`).join(', ')} (${dir})`)
        console.log(`OLTP_DATABASE_URL=${c.coordinator.url(oltp!)}`)
        console.log(`CONTENT_DATABASE_URL=${c.coordinator.url(content!)}`)
        return 0
      }
      case 'stop':
      case 'status':
      case 'destroy': {
        const c = await loadCluster(dir)
        if (!c) {
          console.error(`citus: no cluster in ${dir} (npm run citus -- start makes one)`)
          return 1
        }
        if (verb === 'stop') await stopCluster(c)
        if (verb === 'destroy') await destroyCluster(c)
        if (verb !== 'status') return 0
        const s = await clusterStatus(c)
        if (values.json) console.log(JSON.stringify(s, null, 2))
        else for (const n of s.nodes) console.log(`${n.role.padEnd(11)} 127.0.0.1:${n.port}  ${n.running ? 'running' : 'stopped'}`)
        return s.nodes.every((n) => n.running) ? 0 : 1
      }
      case undefined:
        throw new UsageError('a verb is needed: start, stop, status or destroy')
      default:
        throw new UsageError(`unknown verb ${JSON.stringify(verb)}: start, stop, status or destroy`)
    }
  } catch (err) {
    if (err instanceof ClusterError) {
      console.error(`citus: ${err.message}`)
      return 2
    }
    throw err
  }
})
