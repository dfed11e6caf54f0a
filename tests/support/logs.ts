/** A logger that keeps what it writes, for tests that check what reaches the logs (and what never does). */
import type { Level, Logger } from 'pino'
import { createLogger } from '../../src/system.ts'

export interface CapturedLogs {
  log: Logger
  /** Every line written so far, parsed. */
  lines: Record<string, unknown>[]
  /** Every line as written: what a log shipper would see. */
  text(): string
}

export function captureLogs(level: Level = 'debug'): CapturedLogs {
  const raw: string[] = []
  // The process's own logger (its serializers included), writing here instead of stdout.
  const log = createLogger({ LOG_LEVEL: level }, { write: (line: string) => void raw.push(line) })
  return {
    log,
    get lines() {
      return raw.map((l) => JSON.parse(l) as Record<string, unknown>)
    },
    text: () => raw.join(''),
  }
}
