import { afterAll } from 'bun:test'
import { trackTimers } from './leaks.ts'
import { closeTestDatabases } from './system.ts'

trackTimers()

// Hooks in a preload file run once for the whole test process.
afterAll(async () => {
  await closeTestDatabases()
})
