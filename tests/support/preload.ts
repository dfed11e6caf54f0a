import { afterAll, afterEach } from 'bun:test'
import { killLeftoverChildren } from './child.ts'
import { trackTimers } from './leaks.ts'
import { closeTestDatabases } from './system.ts'

trackTimers()

// A child process outlives only the test that started it, whether that test passed or not.
afterEach(killLeftoverChildren)

// Hooks in a preload file run once for the whole test process.
afterAll(async () => {
  await closeTestDatabases()
})
