import { describe, expect, test } from 'bun:test'
import { backoffSeconds, targetConcurrency, type ScaleInput } from '../../workers/runtime/policy.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

describe('backoff', () => {
  test('doubles per attempt within its jitter band, never below 1 s, capped', () => {
    const lo = () => 0
    const hi = () => 0.999
    expect([1, 2, 3, 4].map((a) => backoffSeconds(a, 2, 600, lo))).toEqual([1, 2, 4, 8])
    expect([1, 2, 3, 4].map((a) => backoffSeconds(a, 2, 600, hi))).toEqual([2, 4, 8, 16])
    expect(backoffSeconds(30, 2, 600, hi)).toBe(600)
    expect(backoffSeconds(1, 0.1, 600, lo)).toBe(1)
  })
})

describe('concurrency', () => {
  const base: ScaleInput = { depth: 0, oldestAgeSeconds: null, current: 1, min: 1, max: 8, batchSize: 50, maxAgeSeconds: 5 }
  test('grows with the backlog up to max', () => {
    expect(targetConcurrency({ ...base, depth: 120 })).toBe(3)
    expect(targetConcurrency({ ...base, depth: 100_000 })).toBe(8)
  })
  test('adds a reader while messages are getting old, even with a small backlog', () => {
    expect(targetConcurrency({ ...base, depth: 10, current: 2, oldestAgeSeconds: 30 })).toBe(3)
  })
  test('shrinks one step at a time when idle, never below min', () => {
    expect(targetConcurrency({ ...base, current: 6 })).toBe(5)
    expect(targetConcurrency({ ...base, current: 1 })).toBe(1)
    expect(targetConcurrency({ ...base, current: 3, min: 3 })).toBe(3)
  })
})
