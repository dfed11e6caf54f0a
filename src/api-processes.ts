/**
 * Several API processes on one port (API_PROCESSES, server mode): a small supervisor starts N
 * copies of `bin/start.ts`, each listening with SO_REUSEPORT so the kernel spreads connections
 * over them. One Bun process runs JavaScript on one core; this is how the API uses the others.
 *
 * SIGHUP restarts them one at a time (a new copy starts and says it is ready, then the old one
 * drains and stops), so a deploy refuses no request. SIGTERM or SIGINT stops them all cleanly. A
 * copy that dies is started again; should the supervisor itself die, its copies kill themselves,
 * as if the whole server had crashed (nothing keeps serving without a supervisor to stop it).
 */
import type { Subprocess } from 'bun'
import type { Logger } from 'pino'
import type { Config } from './config.ts'

const SLOT = 'EDP_API_SLOT'
/** How long a stopping copy keeps answering (with Connection: close) before it closes its listener. */
export const DRAIN_MS = 1_000
const READY_TIMEOUT_MS = 120_000

/** This copy's number under a supervisor, or undefined for a lone API process (or the supervisor). */
export const apiSlot = (): number | undefined => (process.env[SLOT] === undefined ? undefined : Number(process.env[SLOT]))

/** Tells the supervisor this copy serves requests; no-op for a lone process. */
export function reportReady(): void {
  process.send?.({ ready: true })
}

/** A copy whose supervisor died kills itself at once, as the supervisor's own SIGKILL would have. */
export function dieWithSupervisor(): void {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL')
  }, 200)
  timer.unref()
}

class CopyExited extends Error {
  constructor(
    readonly slot: number,
    readonly code: number,
  ) {
    super(`API process ${slot} exited (${code}) before it was ready`)
  }
}

interface Copy {
  slot: number
  proc: Subprocess
  ready: Promise<void>
  /** Set when the supervisor stops it on purpose: its exit is not a crash. */
  retiring: boolean
}

/** A free port for PORT=0: the copies must all bind the same one. */
function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

export async function superviseApi(config: Config, log: Logger, processes: number): Promise<void> {
  const port = config.PORT === 0 ? freePort(config.HOST) : config.PORT
  const copies: Copy[] = []
  let stopping = false
  let serving = false

  const start = (slot: number): Copy => {
    let ready!: () => void
    const copy: Copy = { slot, retiring: false, ready: new Promise<void>((r) => (ready = r)), proc: undefined as never }
    copy.proc = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
      env: {
        ...process.env,
        [SLOT]: String(slot),
        PORT: String(port),
        // Workers (when in process at all) run beside the first copy only: one set per server.
        ...(slot === 0 ? {} : { WORKERS_IN_PROCESS: 'false' }),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      ipc: (message) => {
        if (message?.ready) ready()
      },
    })
    void copy.proc.exited.then((code) => {
      // Before it serves (at start, or as a replacement), its failure is its starter's to report.
      if (stopping || copy.retiring || !serving || !copies.includes(copy)) return
      log.error({ slot, code }, 'an API process exited; starting another')
      setTimeout(() => {
        const i = copies.indexOf(copy)
        if (!stopping && i >= 0) copies[i] = start(slot)
      }, 1_000)
    })
    return copy
  }

  const readyOrExit = async (copy: Copy) => {
    const exited = copy.proc.exited.then((code) => {
      throw new CopyExited(copy.slot, code)
    })
    const timeout = Bun.sleep(READY_TIMEOUT_MS).then(() => {
      throw new Error(`API process ${copy.slot} was not ready within ${READY_TIMEOUT_MS / 1000} s`)
    })
    await Promise.race([copy.ready, exited, timeout])
  }

  const stopAll = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    for (const c of copies) c.proc.kill('SIGTERM')
    await Promise.all(copies.map((c) => c.proc.exited))
    process.exit(0)
  }
  process.on('SIGINT', () => void stopAll('SIGINT'))
  process.on('SIGTERM', () => void stopAll('SIGTERM'))

  for (let slot = 0; slot < processes; slot++) copies.push(start(slot))
  try {
    await Promise.all(copies.map(readyOrExit))
  } catch (err) {
    stopping = true
    for (const c of copies) c.proc.kill('SIGTERM')
    await Promise.all(copies.map((c) => c.proc.exited))
    // A copy that could not start said why on stderr (a bad setting: exit 2; no database: 3): exit as it did.
    if (err instanceof CopyExited && err.code) process.exit(err.code)
    throw err
  }
  serving = true
  log.info({ url: `http://${config.HOST}:${port}/`, processes }, 'api listening')

  let restarting = false
  process.on('SIGHUP', async () => {
    if (restarting || stopping) return
    restarting = true
    log.info({ processes }, 'rolling restart')
    try {
      for (let i = 0; i < copies.length && !stopping; i++) {
        const old = copies[i]!
        const fresh = start(old.slot)
        try {
          await readyOrExit(fresh)
        } catch (err) {
          fresh.retiring = true
          fresh.proc.kill('SIGTERM')
          log.error({ err, slot: old.slot }, 'the new API process did not start; the old one keeps serving and the restart stops')
          return
        }
        copies[i] = fresh
        old.retiring = true
        old.proc.kill('SIGTERM')
        await old.proc.exited
      }
      log.info({ processes }, 'rolling restart done')
    } finally {
      restarting = false
    }
  })
}
