import { describe, expect, test } from 'bun:test'
import { ConfigError, isEmbedded, loadConfig } from '../src/config.ts'
import { resolveAdminToken } from '../src/admin-token.ts'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { useLeakCheck } from './support/leaks.ts'

useLeakCheck()

describe('config', () => {
  test('defaults give embedded mode on ./data', () => {
    const c = loadConfig({})
    expect(c.DATA_DIR).toBe('./data')
    expect(c.PORT).toBe(3000)
    expect(isEmbedded(c)).toBe(true)
  })

  test('a bad value stops start-up with one message naming each bad variable', () => {
    const bad = () => loadConfig({ PORT: 'eighty', OLTP_DATABASE_URL: 'mysql://x', ADMIN_TOKEN: 'short' })
    expect(bad).toThrow(ConfigError)
    try {
      bad()
    } catch (err) {
      const message = (err as Error).message
      for (const name of ['PORT', 'OLTP_DATABASE_URL', 'ADMIN_TOKEN']) expect(message).toContain(name)
    }
  })

  test('worker concurrency bounds must be ordered', () => {
    expect(() => loadConfig({ WORKER_MIN_CONCURRENCY: '8', WORKER_MAX_CONCURRENCY: '2' })).toThrow('WORKER_MIN_CONCURRENCY')
    expect(loadConfig({ WORKER_MIN_CONCURRENCY: '2', WORKER_MAX_CONCURRENCY: '2' }).WORKER_MAX_CONCURRENCY).toBe(2)
  })

  test('a read replica needs its primary: OLTP_READ_URL without OLTP_DATABASE_URL is refused, naming it', () => {
    const url = 'postgres://u@h/db'
    expect(() => loadConfig({ OLTP_READ_URL: url })).toThrow(/OLTP_READ_URL: a replica needs its primary/)
    expect(() => loadConfig({ CONTENT_DATABASE_URL: url, CONTENT_READ_URL: url, READ_REPLICA_MAX_LAG_S: '0' })).toThrow('READ_REPLICA_MAX_LAG_S')
    expect(loadConfig({ ANALYTICS_DATABASE_URL: url, ANALYTICS_READ_URL: 'postgres://u@replica/db' }).ANALYTICS_READ_URL).toBe('postgres://u@replica/db')
  })

  test('four URLs mean server mode; an empty variable counts as unset', () => {
    const url = 'postgres://u@h/db'
    const c = loadConfig({ OLTP_DATABASE_URL: url, CONTENT_DATABASE_URL: url, ANALYTICS_DATABASE_URL: url, QUEUE_DATABASE_URL: url, PORT: '' })
    expect(isEmbedded(c)).toBe(false)
    expect(c.PORT).toBe(3000)
  })

  test('embedded mode generates an admin token once and keeps it; server mode requires one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edp-cfg-'))
    try {
      const first = await resolveAdminToken(loadConfig({ DATA_DIR: dir }))
      const second = await resolveAdminToken(loadConfig({ DATA_DIR: dir }))
      expect(first.generated).toBe(true)
      expect(second).toMatchObject({ token: first.token, generated: false })
      expect((await readFile(join(dir, 'admin-token'), 'utf8')).trim()).toBe(first.token)
      expect((await stat(join(dir, 'admin-token'))).mode & 0o077).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const url = 'postgres://u@h/db'
    const server = loadConfig({ OLTP_DATABASE_URL: url, CONTENT_DATABASE_URL: url, ANALYTICS_DATABASE_URL: url, QUEUE_DATABASE_URL: url })
    await expect(resolveAdminToken(server)).rejects.toThrow('ADMIN_TOKEN')
  })
})
