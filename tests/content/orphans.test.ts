/**
 * Invariant 6: unreferenced content is collected after the grace period, in bounded batches;
 * referenced content never is, and a ref that would commit too late is refused instead. Time is
 * moved on a test clock, never waited for.
 */
import { describe, expect, test } from 'bun:test'
import { makeDeps, testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { TestClock } from '../support/clock.ts'
import { runVisible } from '../support/queues.ts'
import { createMessage, type CreateMessageInput } from '../../src/services/messages.ts'
import { collectOrphanContent, findOrphanContent } from '../../src/services/orphans.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'

const GRACE_S = 3600
const config = testConfig({ CONTENT_ORPHAN_GRACE_S: String(GRACE_S) })
const sys = useSystem(config)

/** A Deps of the test's own, on a clock it moves. */
function withClock() {
  const clock = new TestClock()
  return { clock, deps: makeDeps(sys.tiers, { config, clock }) }
}

const input = (accountId: string): CreateMessageInput => ({ ...messageBody(accountId), direction: 'outbound', message_type: 'email' })
const crash = () => {
  throw new Error('killed between the two writes')
}
const orphansOf = async (tenantId: string) =>
  (await findOrphanContent(sys.deps, new Date(Date.now() + 60_000))).filter((o) => o.tenant_id === tenantId)

describe('orphan collection', () => {
  test('only after the grace period, never referenced content, and through the queue job', async () => {
    const t = await createTenant(sys, 'orphans')
    await expect(createMessage(sys.deps, t.id, input(t.accountId), { afterContentWrite: crash })).rejects.toThrow()
    const kept = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: 'keep me' }) })
    const [orphan] = await orphansOf(t.id)
    expect(orphan).toBeDefined()

    const { clock, deps } = withClock()
    expect(await collectOrphanContent(deps, 500)).toEqual({ removed: 0, more: false }) // too young
    clock.advance(GRACE_S * 1000 + 1_000)

    await enqueue(sys.tiers.queue, 'content.collect_orphans', { batch_size: 500 })
    await runVisible({ ...sys, deps })
    expect(await getContentObject(sys.tiers.content, t.id, orphan!.storage_key)).toBeUndefined()
    expect(await orphansOf(t.id)).toEqual([])
    const content = await call(sys, 'GET', `/v1/messages/${kept.body.id}/content`, { token: t.key })
    expect(content.status).toBe(200)
    expect(content.body.content_text).toBe('keep me')
  })

  test('a ref that would commit after half the grace period is refused, so it never points at collected content', async () => {
    const t = await createTenant(sys, 'late')
    const { clock, deps } = withClock()
    const late = createMessage(deps, t.id, input(t.accountId), {
      afterContentWrite: () => clock.advance((GRACE_S * 1000) / 2 + 1_000), // the process stalls here
    })
    await expect(late).rejects.toThrow('too late')
    const refs = await sys.tiers.oltp.query(`SELECT 1 FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
    expect(refs).toHaveLength(0)
    expect(await orphansOf(t.id)).toHaveLength(1) // left for collection
  })

  test('a ref that commits within half the grace period is stored', async () => {
    const t = await createTenant(sys, 'in-time')
    const { clock, deps } = withClock()
    const ref = await createMessage(deps, t.id, input(t.accountId), { afterContentWrite: () => clock.advance((GRACE_S * 1000) / 2 - 1_000) })
    expect(ref.tenant_id).toBe(t.id)
    expect(await orphansOf(t.id)).toEqual([])
  })

  test('collection runs in bounded batches', async () => {
    const t = await createTenant(sys, 'batches')
    for (let i = 0; i < 3; i++) {
      await expect(createMessage(sys.deps, t.id, input(t.accountId), { afterContentWrite: crash })).rejects.toThrow()
    }
    const { clock, deps } = withClock()
    clock.advance(GRACE_S * 1000 + 1_000)
    const all = async () => (await findOrphanContent(sys.deps, new Date(Date.now() + 60_000))).length
    const before = await all()
    expect(before).toBeGreaterThanOrEqual(3)
    expect(await collectOrphanContent(deps, 2)).toEqual({ removed: 2, more: true })
    expect(await all()).toBe(before - 2)
  })
})
