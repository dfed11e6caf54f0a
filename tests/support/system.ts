/**
 * What each test file starts from: the process's databases, emptied, with a fresh Deps and app
 * over them. Workers are not started; tests drive them batch by batch.
 */
import { beforeAll } from 'bun:test'
import type { Logger } from 'pino'
import type { Clock } from '../../src/clock.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { Tiers } from '../../src/db/tiers.ts'
import type { Deps } from '../../src/deps.ts'
import { createApp } from '../../src/http/app.ts'
import { buildDeps, createLogger } from '../../src/system.ts'
import { openTestDatabases, truncateAll, type TestDatabases } from './databases.ts'
import { useLeakCheck } from './leaks.ts'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'
/** The content master key every test system seals with (32 bytes, base64). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64')

let databases: Promise<TestDatabases> | undefined

export function testDatabases(): Promise<TestDatabases> {
  databases ??= openTestDatabases()
  return databases
}

export async function closeTestDatabases(): Promise<void> {
  if (databases) await (await databases).dispose()
  databases = undefined
}

export function testConfig(overrides: Partial<Record<keyof Config, string>> = {}): Config {
  // Tests fire requests far faster than a client should; the rate-limit tests set their own limits.
  return loadConfig({
    DATA_DIR: '/nonexistent',
    LOG_LEVEL: 'silent',
    CONTENT_MASTER_KEY: TEST_MASTER_KEY,
    MAX_BODY_BYTES: String(2 * 1024 * 1024),
    RATE_LIMIT_PER_S: '100000',
    RATE_LIMIT_BURST: '1000000',
    ...overrides,
  })
}

const testLogLevel = (process.env.TEST_LOG_LEVEL ?? 'silent') as Config['LOG_LEVEL']

/** The one way tests build a Deps: silent logs (or a capturing logger), the test admin token, and any clock the test moves. */
export function makeDeps(
  tiers: Tiers,
  {
    config = testConfig(),
    clock,
    log = createLogger({ LOG_LEVEL: testLogLevel }),
    sealContent,
  }: { config?: Config; clock?: Clock; log?: Logger; /** false: write content in the clear, as before encryption. */ sealContent?: boolean } = {},
): Deps {
  return buildDeps(tiers, { config, log, adminToken: ADMIN_TOKEN, clock, sealContent })
}

export interface TestSystem {
  tiers: Tiers
  deps: Deps
  app: ReturnType<typeof createApp>
}

/**
 * Registers the file's setup: the databases emptied, a Deps and app over them, and the leak check
 * after the file's last test. The returned object fills in before the first test runs.
 */
export function useSystem(config?: Config): TestSystem {
  const system = {} as TestSystem
  beforeAll(async () => {
    const { tiers } = await testDatabases()
    await truncateAll(tiers)
    system.tiers = tiers
    system.deps = makeDeps(tiers, { config })
    system.app = createApp(system.deps)
    // The first file of a run on a fresh clone builds the migrated snapshot: seconds on a busy
    // machine, longer than bun's default hook timeout.
  }, 120_000)
  useLeakCheck()
  return system
}

/** The four *_DATABASE_URL variables for a child process on the PostgreSQL test databases. */
export async function tierUrlEnv(): Promise<Record<string, string>> {
  const { urls } = await testDatabases()
  if (!urls) throw new Error('child processes can share the test databases only on PostgreSQL')
  return {
    OLTP_DATABASE_URL: urls.oltp,
    CONTENT_DATABASE_URL: urls.content,
    ANALYTICS_DATABASE_URL: urls.analytics,
    QUEUE_DATABASE_URL: urls.queue,
    CONTENT_MASTER_KEY: TEST_MASTER_KEY,
  }
}
