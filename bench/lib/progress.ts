/** A progress bar with rate and ETA for the long steps of the generator and the benchmarks (stderr). */
import cliProgress from 'cli-progress'

export interface Progress {
  tick(n?: number): void
  stop(): number
}

export function progress(step: string, total: number, unit = 'rows'): Progress {
  const started = performance.now()
  const bar = new cliProgress.SingleBar(
    {
      format: `${step.padEnd(22)} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
      barsize: 28,
      etaBuffer: 50,
      fps: 4,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 10_000,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  )
  let value = 0
  bar.start(total, 0, { rate: '0' })
  return {
    tick(n = 1) {
      value += n
      const seconds = (performance.now() - started) / 1000
      bar.update(value, { rate: Math.round(value / Math.max(seconds, 0.001)).toLocaleString('en') })
    },
    stop() {
      bar.stop()
      return (performance.now() - started) / 1000
    },
  }
}
