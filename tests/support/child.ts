/** Child processes whose stdout lines tests wait on (a server starting, a worker making progress). */
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..', '..')

export interface Child {
  proc: ReturnType<typeof Bun.spawn>
  lines: string[]
  /** Resolves with the first line (seen so far or later) matching, or rejects after timeoutMs. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves once `count` lines match. */
  waitForCount(match: (line: string) => boolean, count: number, timeoutMs?: number): Promise<void>
  stderr(): Promise<string>
}

/** Children not yet exited: a test that fails before stopping its own leaves them here. */
const running = new Set<Child['proc']>()

/**
 * SIGKILLs whatever a finished test left running (the preload runs it after every test): a
 * leftover server or worker would go on writing to databases later tests reuse or drop.
 */
export async function killLeftoverChildren(): Promise<void> {
  const left = [...running]
  for (const proc of left) proc.kill('SIGKILL')
  await Promise.all(left.map((proc) => proc.exited))
}

export function spawnChild(script: string, env: Record<string, string | undefined>, args: string[] = []): Child {
  const proc = Bun.spawn([process.execPath, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, TEST_PG_URL: '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  running.add(proc)
  void proc.exited.then(() => running.delete(proc))
  const lines: string[] = []
  let listeners: (() => void)[] = []
  void (async () => {
    const decoder = new TextDecoder()
    let rest = ''
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      const parts = (rest + decoder.decode(chunk)).split('\n')
      rest = parts.pop()!
      lines.push(...parts)
      for (const l of listeners) l()
    }
  })()
  const waitForCount = (match: (line: string) => boolean, count: number, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.filter(match).length >= count) {
          listeners = listeners.filter((l) => l !== check)
          clearTimeout(timer)
          resolve()
        }
      }
      const timer = setTimeout(() => {
        listeners = listeners.filter((l) => l !== check)
        reject(new Error(`timed out waiting for ${count} matching lines; got:\n${lines.slice(-20).join('\n')}`))
      }, timeoutMs)
      listeners.push(check)
      check()
    })
  return {
    proc,
    lines,
    waitForCount,
    async waitFor(match, timeoutMs) {
      await waitForCount(match, 1, timeoutMs)
      return lines.find(match)!
    },
    stderr: () => new Response(proc.stderr as ReadableStream).text(),
  }
}
