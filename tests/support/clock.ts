import type { Clock } from '../../src/clock.ts'

/** Real time plus an offset a test can move forward: grace periods pass without sleeping. */
export class TestClock implements Clock {
  #offset = 0
  now(): number {
    return Date.now() + this.#offset
  }
  advance(ms: number): void {
    this.#offset += ms
  }
}
