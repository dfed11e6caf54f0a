/**
 * Read replicas against a real streaming replica (pg_basebackup -R of a throwaway primary):
 * listings read the replica while it is fresh, fetches by id read the primary, and a replica whose
 * replay is paused past READ_REPLICA_MAX_LAG_S, or that is down, is skipped: listings then read
 * the primary and stay complete.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { migrateAll } from '../../src/db/migrate.ts'
import { openTiers, type Tiers } from '../../src/db/tiers.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { createApp } from '../../src/http/app.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { engine } from '../support/databases.ts'
import { eventually } from '../support/eventually.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { startPgInstance, startReplicaInstance, type PgInstance } from '../support/pg-instance.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, type TestSystem } from '../support/system.ts'

useLeakCheck()

const TIERS = ['oltp', 'content', 'analytics', 'queue'] as const
let primary: PgInstance | undefined
let replica: PgInstance | undefined
const opened: Tiers[] = []
async function closeAll(): Promise<void> {
  for (const t of opened.splice(0)) await t.close()
  await replica?.destroy()
  await primary?.destroy()
  replica = primary = undefined
}
afterAll(closeAll) // after a failure; a passing test closes everything itself, before the leak check

async function onReplica(sql: string): Promise<void> {
  const db = postgresDb(replica!.url('postgres'), { max: 1 })
  try {
    await db.query(sql)
  } finally {
    await db.close()
  }
}

/** A system on the primary with every read tier's replica, at the given lag bound. */
async function system(maxLagS: string): Promise<TestSystem> {
  const urls = Object.fromEntries(TIERS.map((t) => [`${t.toUpperCase()}_DATABASE_URL`, primary!.url(`edp_${t}`)]))
  const reads = Object.fromEntries(['oltp', 'content', 'analytics'].map((t) => [`${t.toUpperCase()}_READ_URL`, replica!.url(`edp_${t}`)]))
  const config = testConfig({ ...urls, ...reads, READ_REPLICA_MAX_LAG_S: maxLagS })
  const tiers = await openTiers(config, 'edp-replica-test')
  opened.push(tiers)
  const deps = makeDeps(tiers, { config })
  return { tiers, deps, app: createApp(deps) }
}

const listedIds = async (sys: TestSystem, key: string): Promise<string[]> => {
  const list = await call(sys, 'GET', '/v1/messages?limit=100', { token: key })
  expect(list.status).toBe(200)
  return (list.body.data as { id: string }[]).map((m) => m.id)
}

describe('read replicas', () => {
  test.skipIf(engine !== 'postgres')(
    'listings read a fresh replica, fetches the primary; a lagging or stopped replica is skipped',
    async () => {
      primary = await startPgInstance({ wal_level: 'replica', max_wal_senders: '5' })
      const admin = postgresDb(primary.url('postgres'), { max: 1 })
      for (const t of TIERS) await admin.exec(`CREATE DATABASE edp_${t}`)
      await admin.close()
      replica = await startReplicaInstance(primary)

      // A generous bound: the replica stays in use however far replay is paused.
      const patient = await system('60')
      await migrateAll(patient.tiers)
      const tenant = await createTenant(patient)
      await eventually(async () => patient.tiers.replicas!.states().oltp?.inUse, 'the replica in use')

      await onReplica(`SELECT pg_wal_replay_pause()`)
      const made = await call(patient, 'POST', '/v1/messages', { token: tenant.key, body: messageBody(tenant.accountId, { subject: 'while paused' }) })
      expect(made.status).toBe(201)
      // Read-your-own-write: the fetch by id goes to the primary...
      expect((await call(patient, 'GET', `/v1/messages/${made.body.id}`, { token: tenant.key })).status).toBe(200)
      // ...while the listing reads the replica, which has not replayed the write.
      expect(await listedIds(patient, tenant.key)).not.toContain(made.body.id)
      expect(patient.tiers.replicas!.states().oltp?.inUse).toBe(true)
      await onReplica(`SELECT pg_wal_replay_resume()`)
      await eventually(async () => (await listedIds(patient, tenant.key)).includes(made.body.id), 'the replica to replay the write')

      // A strict bound: paused replay past one second sends listings to the primary.
      const strict = await system('1')
      await eventually(async () => strict.tiers.replicas!.states().oltp?.inUse, 'the replica in use under the strict bound')
      await onReplica(`SELECT pg_wal_replay_pause()`)
      const later = await call(strict, 'POST', '/v1/messages', { token: tenant.key, body: messageBody(tenant.accountId, { subject: 'past the bound' }) })
      expect(later.status).toBe(201)
      await eventually(async () => strict.tiers.replicas!.states().oltp?.inUse === false, 'the lagging replica skipped')
      expect(strict.tiers.replicas!.states().oltp?.reason).toContain('behind its primary')
      expect(await listedIds(strict, tenant.key)).toContain(later.body.id)
      // The report's as_of never claims more than the data it read: here from the primary, complete.
      expect((await call(strict, 'GET', `/v1/analytics/email-accounts/${tenant.accountId}`, { token: tenant.key })).status).toBe(200)
      await onReplica(`SELECT pg_wal_replay_resume()`)
      await eventually(async () => strict.tiers.replicas!.states().oltp?.inUse, 'the replica back in use after catching up')

      // A replica that is down: every listing still answers, complete, from the primary.
      await replica.stop()
      await eventually(async () => strict.tiers.replicas!.states().oltp?.inUse === false, 'the stopped replica skipped')
      expect(strict.tiers.replicas!.states().oltp?.reason).toContain('unreachable')
      const ids = await listedIds(strict, tenant.key)
      expect(ids).toEqual(expect.arrayContaining([made.body.id, later.body.id]))
      expect((await call(strict, 'GET', '/v1/storage', { token: tenant.key })).status).toBe(200)
      // ...and /metrics says so, per tier (rendered at most once a second).
      await Bun.sleep(1100)
      const metrics = await call(strict, 'GET', '/metrics', { token: ADMIN_TOKEN })
      expect(metrics.body).toContain('edp_replica_in_use{tier="oltp"} 0')
      expect(metrics.body).not.toContain('edp_replica_lag_seconds{tier="oltp"}')
      await closeAll()
    },
    180_000,
  )
})
