import { afterAll } from 'bun:test'
import { closeTestDatabases } from './system.ts'

// Hooks in a preload file run once for the whole test process.
afterAll(async () => {
  await closeTestDatabases()
})
