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

/** Time that moves only when the test moves it: for checks of "at most once per interval" that a slow machine must not break. */
export class StoppedClock implements Clock {
  #now = Date.now()
  now(): number {
    return this.#now
  }
  advance(ms: number): void {
    this.#now += ms
  }
}
