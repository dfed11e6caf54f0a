/**
 * A throwaway PostgreSQL instance of its own (initdb on a free loopback port, its socket and data
 * in a temporary directory) for tests that need settings the shared server on 5432 must never get:
 * WAL archiving, a restore. Run as the `postgres` user when the tests run as root (initdb refuses
 * root). stop() shuts it down and removes everything it wrote.
 */
import { execFile } from 'node:child_process'
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'

/** Runs a command as the postgres user (as is when the tests do not run as root). */
export async function asPostgres(cmd: string, args: string[], env: Record<string, string> = {}) {
  const root = process.getuid?.() === 0
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]] : [cmd, args]
  try {
    return await exec(file, argv, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-800)}`)
  }
}

/** Makes a path the test wrote (as root) the postgres user's. */
export async function giveToPostgres(path: string): Promise<void> {
  if (process.getuid?.() !== 0) return
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])])
  await chown(path, Number(uid.trim()), Number(gid.trim()))
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface PgInstance {
  port: number
  /** The temporary directory holding data/, the socket and whatever the test puts beside them. */
  root: string
  dataDir: string
  url(database: string): string
  start(): Promise<void>
  stop(): Promise<void>
  /** Stops the instance (if running) and deletes its directory. */
  destroy(): Promise<void>
}

/** initdb, the given settings appended to postgresql.conf, started. */
export async function startPgInstance(settings: Record<string, string> = {}): Promise<PgInstance> {
  const root = await mkdtemp(join(tmpdir(), 'edp-pg-'))
  await chmod(root, 0o755)
  await giveToPostgres(root)
  const dataDir = join(root, 'data')
  const port = await freePort()
  await asPostgres(`${BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const conf = {
    listen_addresses: "'127.0.0.1'",
    port: String(port),
    unix_socket_directories: `'${root}'`,
    fsync: 'off',
    max_connections: '50',
    shared_buffers: '32MB',
    ...settings,
  }
  await writeFile(join(dataDir, 'postgresql.auto.conf'), Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n', { mode: 0o600 })
  await giveToPostgres(join(dataDir, 'postgresql.auto.conf'))
  const instance: PgInstance = {
    port,
    root,
    dataDir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: async () => void (await asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start'])),
    stop: async () => void (await asPostgres(`${BIN}/pg_ctl`, ['-D', dataDir, '-m', 'fast', '-w', 'stop'])),
    destroy: async () => {
      await instance.stop().catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    },
  }
  await instance.start()
  return instance
}
