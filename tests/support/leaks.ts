/**
 * The leak check every test file runs after its last test: no pool, LISTEN, worker or timer that
 * the file's code opened (src/ or workers/) may still be open. Handles come from the process's own
 * registry (src/open-handles.ts); timers from wrapping setTimeout and setInterval (installed by
 * the preload), keeping only those created from this repository's src/ or workers/ code.
 */
import { afterAll, beforeAll } from 'bun:test'
import { join } from 'node:path'
import { openHandles, type OpenHandle } from '../../src/open-handles.ts'

const ROOT = join(import.meta.dir, '..', '..')
const OURS = [join(ROOT, 'src') + '/', join(ROOT, 'workers') + '/']

const liveTimers = new Map<unknown, string>()

function createdByOurCode(): string | undefined {
  const stack = new Error().stack?.split('\n').slice(3) ?? []
  const frame = stack.find((line) => OURS.some((dir) => line.includes(dir)))
  return frame?.trim()
}

/** Wraps the global timer functions so timers our code leaves running can be named. Once per process. */
export function trackTimers(): void {
  const g = globalThis as typeof globalThis & { __edpTimersTracked?: boolean }
  if (g.__edpTimersTracked) return
  g.__edpTimersTracked = true
  const { setTimeout: realTimeout, setInterval: realInterval, clearTimeout: realClearTimeout, clearInterval: realClearInterval } = globalThis
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = realInterval(fn, ms, ...args)
    const where = createdByOurCode()
    if (where) liveTimers.set(timer, `setInterval(${ms} ms) ${where}`)
    return timer
  }) as typeof setInterval
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const where = createdByOurCode()
    const timer = realTimeout(
      (...a: unknown[]) => {
        liveTimers.delete(timer)
        fn(...a)
      },
      ms,
      ...args,
    )
    if (where) liveTimers.set(timer, `setTimeout(${ms} ms) ${where}`)
    return timer
  }) as typeof setTimeout
  globalThis.clearInterval = ((timer: Parameters<typeof clearInterval>[0]) => {
    liveTimers.delete(timer)
    realClearInterval(timer)
  }) as typeof clearInterval
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    liveTimers.delete(timer)
    realClearTimeout(timer)
  }) as typeof clearTimeout
}

export interface Snapshot {
  handles: Set<OpenHandle>
  timers: Set<unknown>
}

export const snapshot = (): Snapshot => ({ handles: new Set(openHandles()), timers: new Set(liveTimers.keys()) })

/** What is open now that was not open at `since`, one line each. */
export function leaksSince(since: Snapshot): string[] {
  return [
    ...openHandles()
      .filter((h) => !since.handles.has(h))
      .map((h) => `${h.kind}: ${h.label}`),
    ...[...liveTimers].filter(([t]) => !since.timers.has(t)).map(([, where]) => `timer: ${where}`),
  ]
}

/**
 * Registers the check for the calling test file: a snapshot before its tests (after any setup
 * registered earlier), and a failure after its last test naming whatever is still open.
 */
export function useLeakCheck(): void {
  let before: Snapshot
  beforeAll(() => {
    before = snapshot()
  })
  afterAll(async () => {
    // Handles released by a stop() still settling get a moment; a real leak stays open.
    for (let i = 0; i < 20 && leaksSince(before).length; i++) await Bun.sleep(10)
    const left = leaksSince(before)
    if (left.length) throw new Error(`this file left open:\n  ${left.join('\n  ')}`)
  })
}
