/**
 * One PostgreSQL 15 server of our own: initdb into a directory, settings written beside the data,
 * started and stopped with pg_ctl on a loopback port, its socket in the same directory. The shared
 * server on 5432 never gets special settings; a test or tool that needs them (WAL archiving, a
 * replica, Citus) makes one of these. Commands run as the `postgres` user when we are root, since
 * initdb refuses root.
 */
import { execFile } from 'node:child_process'
import { appendFile, chmod, chown, mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)
export const PG_BIN = '/usr/lib/postgresql/15/bin'

/** Runs a command as the postgres user (as is when we are not root). */
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

/** Makes a path we wrote (as root) the postgres user's. */
export async function giveToPostgres(path: string): Promise<void> {
  if (process.getuid?.() !== 0) return
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])])
  await chown(path, Number(uid.trim()), Number(gid.trim()))
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface PgNode {
  port: number
  /** The node's directory: data/, its socket, server.log. */
  root: string
  dataDir: string
  url(database: string): string
  start(): Promise<void>
  stop(): Promise<void>
  /** True when the server answers on its port. */
  running(): Promise<boolean>
}

/** The node living in `root` on `port`; nothing is created (see initNode). */
export function pgNode(root: string, port: number): PgNode {
  const dataDir = join(root, 'data')
  return {
    port,
    root,
    dataDir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: async () => void (await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start'])),
    stop: async () => void (await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-m', 'fast', '-w', 'stop'])),
    running: async () => {
      try {
        await exec(`${PG_BIN}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)])
        return true
      } catch {
        return false
      }
    },
  }
}

/**
 * initdb into `root`/data (trust auth on loopback, UTF-8) with `settings` in postgresql.auto.conf.
 * Defaults suit a throwaway node: fsync off, a small cache. Not started.
 */
export async function initNode(root: string, port: number, settings: Record<string, string> = {}): Promise<PgNode> {
  await mkdir(root, { recursive: true })
  await chmod(root, 0o755)
  await giveToPostgres(root)
  const node = pgNode(root, port)
  await asPostgres(`${PG_BIN}/initdb`, ['-D', node.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const conf = {
    listen_addresses: "'127.0.0.1'",
    port: String(port),
    unix_socket_directories: `'${root}'`,
    fsync: 'off',
    max_connections: '50',
    shared_buffers: '32MB',
    ...settings,
  }
  const path = join(node.dataDir, 'postgresql.auto.conf')
  await writeFile(path, Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n', { mode: 0o600 })
  await giveToPostgres(path)
  return node
}

/**
 * A streaming replica of `primary` (which needs wal_level replica or logical and wal senders):
 * pg_basebackup -R into `root`/data, its own port and socket written after the copied settings
 * (later lines win), not started.
 */
export async function initReplica(primary: PgNode, root: string, port: number): Promise<PgNode> {
  await mkdir(root, { recursive: true })
  await chmod(root, 0o755)
  await giveToPostgres(root)
  const node = pgNode(root, port)
  await asPostgres(`${PG_BIN}/pg_basebackup`, ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', node.dataDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync'])
  const path = join(node.dataDir, 'postgresql.auto.conf')
  await appendFile(path, `port = ${port}\nunix_socket_directories = '${root}'\nhot_standby = on\n`)
  return node
}
