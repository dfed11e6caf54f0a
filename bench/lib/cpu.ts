/**
 * How busy the machine's cores were over a stretch of a benchmark (Linux /proc/stat: every
 * process, ours, PostgreSQL's and the load generator's alike). On this 2-core machine the write
 * paths are CPU-bound, so CPU per message is what sets their rates: a ratio of rates is close to
 * the inverse ratio of CPU per message.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks a second (USER_HZ): 100 on every Linux the project runs on. */
const TICKS_PER_S = 100

function sample(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number)
  const total = ticks.reduce((a, b) => a + b, 0)
  return { busy: total - ticks[3]! - ticks[4]!, total } // idle and iowait are not busy
}

export interface CpuSpent {
  /** Busy share of all cores, percent. */
  busy_pct: number
  /** Busy CPU time, milliseconds (all cores). */
  busy_ms: number
}

/** Starts measuring; the function it returns gives the CPU spent since. */
export function cpuMeter(): () => CpuSpent {
  const start = sample()
  return () => {
    const end = sample()
    const busy = end.busy - start.busy
    const total = end.total - start.total
    return { busy_pct: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0, busy_ms: (busy / TICKS_PER_S) * 1000 }
  }
}

/** Busy CPU milliseconds per item done (a message stored, a row copied), to three decimals. */
export const msPerItem = (cpu: CpuSpent, items: number) => Math.round((cpu.busy_ms / items) * 1000) / 1000
