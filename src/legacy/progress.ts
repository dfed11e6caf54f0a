/**
 * Progress of a long legacy command: a bar with rate and ETA (cli-progress) on a terminal, and
 * one plain line per step otherwise, so a log or a supervising process can follow it.
 */
import cliProgress from 'cli-progress'

export interface Progress {
  update(done: number, extra?: string): void
  stop(): void
}

const eta = (seconds: number) => (Number.isFinite(seconds) ? `${Math.round(seconds)}s` : '?')

export function progress(label: string, total: number, { tty = process.stderr.isTTY } = {}): Progress {
  const started = performance.now()
  const rate = (done: number) => done / Math.max((performance.now() - started) / 1000, 0.001)
  if (!tty) {
    return {
      update(done, extra = '') {
        const r = rate(done)
        const pct = total ? Math.floor((done / total) * 100) : 100
        console.log(`${label}: ${done}/${total} (${pct}%) ${Math.round(r)}/s ETA ${eta((total - done) / r)}${extra ? ` ${extra}` : ''}`)
      },
      stop() {},
    }
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted} {extra}`, stream: process.stderr, fps: 4 },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { rate: '0', extra: '' })
  return {
    update(done, extra = '') {
      bar.update(done, { rate: String(Math.round(rate(done))), extra })
    },
    stop: () => bar.stop(),
  }
}
