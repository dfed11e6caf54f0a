/**
 * Work still on its way when an erasure runs: a job waiting in a queue is edited where it waits
 * (and stays a job its handler takes), a job a worker holds right now is waited for, and so is an outbox row a relay
 * is moving; a deleted tenant's waiting jobs go. Driven step by step (runErasure) so each wait can
 * be seen.
 */
import { describe, expect, test } from 'bun:test'
import { envelopeSchema } from '../../src/jobs/envelope.ts'
import { runErasure } from '../../src/services/erasure/run.ts'
import type { RunResult } from '../../src/services/erasure/engine.ts'
import { claimTenantOutbox, deleteOutbox, insertOutbox } from '../../src/tiers/oltp/outbox.ts'
import { archive, read, send } from '../../src/tiers/queue/pgmq.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { JOB_SPECS } from '../../src/jobs/specs.ts'
import { call, createTenant } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { searchTiers } from '../support/search.ts'
import { ADMIN_TOKEN, useSystem } from '../support/system.ts'

const sys = useSystem()

/** A job of the tenant that also carries the person (its payload schema ignores the extra field). */
const jobNaming = (tenantId: string, person: string) => ({ job: 'content.recompute_expiry', payload: { tenant_id: tenantId, requested_for: person } })

/** Runs the request until it completes or has to wait. */
async function runUntilStopped(id: string): Promise<RunResult> {
  for (let n = 0; n < 100; n++) {
    const r = await runErasure(sys.deps, id)
    if (r.kind !== 'more') return r
  }
  throw new Error('the erasure did not stop')
}

const messageOf = async (queue: string, msgId: string, archived = false) =>
  (await sys.tiers.queue.query<{ message: any }>(`SELECT message FROM pgmq.${archived ? 'a' : 'q'}_${queue} WHERE msg_id = $1`, [msgId]))[0]?.message

describe('erasing a person while work is on its way', () => {
  test('a waiting job is edited where it waits and stays a valid job; a job a worker holds is waited for', async () => {
    const t = await createTenant(sys, 'queue-person')
    const person = 'waiting.person@example.com'
    const delayed = await send(sys.tiers.queue, QUEUES.jobs, jobNaming(t.id, person), 3600)
    const held = await send(sys.tiers.queue, QUEUES.jobs, jobNaming(t.id, person.toUpperCase()))
    // A worker reads the second one now (and would hold it for its visibility timeout).
    expect((await read(sys.tiers.queue, QUEUES.jobs, 30, 10)).map((m) => m.msg_id)).toEqual([held])

    const r = await call(sys, 'POST', '/v1/erasure-requests', { token: t.key, body: { email: person } })
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'wait', seconds: sys.deps.config.WORKER_VISIBILITY_TIMEOUT_S })
    expect((await messageOf('jobs', held)).payload.requested_for).toBe(person.toUpperCase())

    // The worker finishes: the message is archived as it was read.
    await archive(sys.tiers.queue, QUEUES.jobs, [held])
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'done' })
    const done = (await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: t.key })).body
    expect(done.tiers.queue).toEqual({ queued: 1, archived: 1, dead_letters: 0, job_logs: 0 })
    expect(await searchTiers(sys.tiers, person)).toEqual([])

    const waiting = await messageOf('jobs', delayed)
    expect(waiting.payload).toEqual({ tenant_id: t.id, requested_for: '[erased]' })
    expect(JOB_SPECS['content.recompute_expiry'].schema.safeParse(envelopeSchema.parse(waiting).payload).success).toBe(true)
    expect((await messageOf('jobs', held, true)).payload.requested_for).toBe('[erased]')
    await sys.tiers.queue.query(`SELECT pgmq.delete('jobs', $1::bigint)`, [delayed])
    await drainQueues(sys)
  })

  test('an outbox row is edited before the relay moves it; one a relay holds is waited for', async () => {
    const t = await createTenant(sys, 'outbox-person')
    const person = 'outbox.person@example.com'
    const { oltp, queue } = sys.tiers
    await insertOutbox(oltp, t.id, QUEUES.jobs, jobNaming(t.id, person))
    const [leased] = await claimTenantOutbox(oltp, t.id, 1, 60)
    const r = await call(sys, 'POST', '/v1/erasure-requests', { token: t.key, body: { email: person } })
    // Separate databases: the request's own job went through the outbox; let the relay move it before a row it must not move.
    await sys.deps.outbox.kick()
    await insertOutbox(oltp, t.id, QUEUES.jobs, jobNaming(t.id, person))
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'wait', seconds: 10 })
    // The relay sends the row it holds and deletes it; the queue stage then finds the message.
    const moved = await send(queue, leased!.queue, leased!.payload)
    await deleteOutbox(oltp, [leased!])
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'done' })
    const done = (await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: t.key })).body
    expect([done.tiers.oltp.outbox, done.tiers.queue.queued]).toEqual([1, 1])
    expect(await searchTiers(sys.tiers, person)).toEqual([])
    await sys.tiers.queue.query(`SELECT pgmq.delete('jobs', $1::bigint)`, [moved])
    await oltp.query(`DELETE FROM oltp.outbox WHERE tenant_id = $1`, [t.id])
    await drainQueues(sys)
  })
})

describe('deleting a tenant while work is on its way', () => {
  test('its waiting jobs are deleted; one a worker holds is waited for, then archived and deleted', async () => {
    const t = await createTenant(sys, 'queue-tenant')
    const other = await createTenant(sys, 'queue-tenant-other')
    const { queue } = sys.tiers
    const mine = await send(queue, QUEUES.jobs, { job: 'content.recompute_expiry', payload: { tenant_id: t.id } }, 3600)
    const held = await send(queue, QUEUES.jobs, { job: 'content.recompute_expiry', payload: { tenant_id: t.id } })
    const theirs = await send(queue, QUEUES.jobs, { job: 'content.recompute_expiry', payload: { tenant_id: other.id } }, 3600)
    await read(queue, QUEUES.jobs, 30, 10)

    await call(sys, 'PATCH', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN, body: { status: 'suspended' } })
    const r = await call(sys, 'DELETE', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN })
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'wait', seconds: sys.deps.config.WORKER_VISIBILITY_TIMEOUT_S })
    await archive(queue, QUEUES.jobs, [held])
    expect(await runUntilStopped(r.body.id)).toEqual({ kind: 'done' })

    const done = (await call(sys, 'GET', `/v1/tenants/${t.id}/deletion`, { token: ADMIN_TOKEN })).body
    expect(done.tiers.queue).toEqual({ queued: 1, archived: 1 })
    expect([await messageOf('jobs', mine), await messageOf('jobs', held, true)]).toEqual([undefined, undefined])
    expect((await messageOf('jobs', theirs)).payload.tenant_id).toBe(other.id)
    await queue.query(`SELECT pgmq.delete('jobs', $1::bigint)`, [theirs])
    await drainQueues(sys)
  })
})
