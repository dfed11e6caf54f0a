/**
 * Invariants 1 and 2 on the write path: content is written before the ref, so a crash between the
 * two leaves detectable orphan content and never a ref without content; a ref and its event
 * commit together, directly (shared database) or through the outbox (separate databases).
 */
import { describe, expect, test } from 'bun:test'
import { makeDeps, useSystem } from './support/system.ts'
import { createTenant, messageBody } from './support/api.ts'
import { faultyDb } from './support/faults.ts'
import { depth } from './support/queues.ts'
import { createMessage, type CreateMessageInput } from '../src/services/messages.ts'
import { findOrphanContent } from '../src/services/orphans.ts'
import { tiersFrom } from '../src/db/tiers.ts'
import { getMessageRef } from '../src/tiers/oltp/messages.ts'
import { getContentObject } from '../src/tiers/content/objects.ts'
import { openContent } from '../src/services/content-seal.ts'
import { countOutbox } from '../src/tiers/oltp/outbox.ts'
import { QUEUES } from '../src/tiers/queue/queues.ts'
import { OutboxRelay } from '../src/services/outbox.ts'
import { messageIdOfKey, messageKey } from '../src/storage-keys.ts'

const sys = useSystem()

const input = (accountId: string, extra: Partial<CreateMessageInput> = {}): CreateMessageInput => ({
  ...messageBody(accountId),
  direction: 'outbound',
  message_type: 'email',
  ...extra,
})

const queued = () => depth(sys.tiers, QUEUES.events)
const soon = () => new Date(Date.now() + 60_000)
const orphansOf = async (tenantId: string) => (await findOrphanContent(sys.deps, soon())).filter((o) => o.tenant_id === tenantId)
const refsOf = (tenantId: string) => sys.tiers.oltp.query(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [tenantId])

describe('content first, ref second', () => {
  test('a crash after the content write leaves an orphan that the scan finds, and no ref', async () => {
    const t = await createTenant(sys, 'crash')
    const crash = createMessage(sys.deps, t.id, input(t.accountId, { content_text: 'lost?' }), {
      afterContentWrite: () => {
        throw new Error('process killed here')
      },
    })
    await expect(crash).rejects.toThrow('process killed here')

    const mine = await orphansOf(t.id)
    expect(mine).toHaveLength(1)
    const storageKey = mine[0]!.storage_key
    expect(await getMessageRef(sys.tiers.oltp, t.id, messageIdOfKey(storageKey)!)).toBeUndefined()
    expect(await getContentObject(sys.tiers.content, t.id, storageKey)).toBeDefined()

    // A completed write is never reported as an orphan.
    const ok = await createMessage(sys.deps, t.id, input(t.accountId))
    const after = (await orphansOf(t.id)).map((o) => o.storage_key)
    expect(after).toEqual([storageKey])
    expect(after).not.toContain(ok.content_storage_key)
  })

  test('a failed ref write leaves no ref, and its content is an orphan the scan finds', async () => {
    const t = await createTenant(sys, 'reffail')
    // The ref insert itself fails (a constraint, a lost connection): the OLTP transaction rolls back.
    const oltp = faultyDb(sys.tiers.oltp, (s) => s.includes('INSERT INTO oltp.inbox_message_refs'))
    const shared = sys.tiers.oltp === sys.tiers.queue
    const deps = makeDeps(tiersFrom({ ...sys.tiers, oltp, queue: shared ? oltp : sys.tiers.queue }))
    await expect(createMessage(deps, t.id, input(t.accountId, { content_text: 'written first' }))).rejects.toThrow('injected fault')
    expect(await refsOf(t.id)).toHaveLength(0)
    const [orphan] = await orphansOf(t.id)
    expect(orphan).toBeDefined()
    const row = await getContentObject(sys.tiers.content, t.id, orphan!.storage_key)
    expect((await openContent(sys.deps, t.id, row!)).content_text).toBe('written first') // sealed: opened to be read
  })

  test('a failed content write writes no ref and leaves no content behind', async () => {
    const t = await createTenant(sys, 'contentfail')
    const tiers = tiersFrom({ ...sys.tiers, content: faultyDb(sys.tiers.content, (s) => s.includes('content.attachments')) })
    const attempt = createMessage(makeDeps(tiers), t.id, input(t.accountId, {
      attachments: [{ filename: 'a.bin', mime_type: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]), storage_disposition: 'attachment' }],
    }))
    await expect(attempt).rejects.toThrow('injected fault')
    // The content transaction rolled back as a whole (body and attachment), and no ref was written after it.
    expect(await orphansOf(t.id)).toEqual([])
    expect(await refsOf(t.id)).toHaveLength(0)
  })
})

describe('the ref and its event', () => {
  test('commit together: a failing enqueue rolls the ref back', async () => {
    const t = await createTenant(sys, 'atomic')
    // Fail whichever enqueue this deployment uses: pgmq.send (shared database) or the outbox.
    const oltp = faultyDb(sys.tiers.oltp, (s) => s.includes('pgmq.send') || s.includes('oltp.outbox'))
    const shared = sys.tiers.oltp === sys.tiers.queue
    const tiers = tiersFrom({ ...sys.tiers, oltp, queue: shared ? oltp : sys.tiers.queue })
    const before = await queued()
    await expect(createMessage(makeDeps(tiers), t.id, input(t.accountId))).rejects.toThrow('injected fault')
    expect(await refsOf(t.id)).toHaveLength(0)
    expect(await queued()).toBe(before)
  })

  test('separate databases: a crash before the relay loses nothing; the sweep delivers it', async () => {
    const t = await createTenant(sys, 'outbox')
    // A distinct queue Db object: the write path must treat OLTP and queue as separate databases.
    const tiers = tiersFrom({ ...sys.tiers, queue: faultyDb(sys.tiers.queue) })
    const deps = makeDeps(tiers)
    deps.outbox = { kick: async () => 0, publish: () => {} } as unknown as OutboxRelay // the process dies before relaying
    await new OutboxRelay(sys.tiers, sys.deps.log).kick() // whatever earlier writes left is relayed first
    const before = await queued()
    const ref = await createMessage(deps, t.id, input(t.accountId))
    expect(await countOutbox(sys.tiers.oltp)).toBe(1)
    expect(await queued()).toBe(before)

    const moved = await new OutboxRelay(tiers, deps.log).kick()
    expect(moved).toBe(1)
    expect(await countOutbox(sys.tiers.oltp)).toBe(0)
    expect(await queued()).toBe(before + 1)
    const [msg] = await sys.tiers.queue.query<{ message: any }>(`SELECT message FROM pgmq.q_events ORDER BY msg_id DESC LIMIT 1`)
    expect(msg!.message).toMatchObject({ job: 'message.created', payload: { message_id: ref.id, tenant_id: t.id } })
  })

  test('separate databases: the writer moves its own rows after commit; a send that fails leaves them for the sweep', async () => {
    const t = await createTenant(sys, 'publish')
    await new OutboxRelay(sys.tiers, sys.deps.log).kick()
    const before = await queued()
    let failing = true
    const tiers = tiersFrom({ ...sys.tiers, queue: faultyDb(sys.tiers.queue, (q) => failing && q.includes('pgmq.send')) })
    const deps = makeDeps(tiers)
    const lost = await createMessage(deps, t.id, input(t.accountId))
    await deps.outbox.stop() // waits for the move it started after commit, which failed
    expect(await countOutbox(sys.tiers.oltp)).toBe(1)
    expect(await queued()).toBe(before)

    failing = false
    const sent = await createMessage(deps, t.id, input(t.accountId))
    await deps.outbox.stop()
    expect(await countOutbox(sys.tiers.oltp)).toBe(1) // its own row moved and gone; the failed one waits
    expect(await queued()).toBe(before + 1)
    expect(await deps.outbox.kick()).toBe(1) // the sweep
    expect(await countOutbox(sys.tiers.oltp)).toBe(0)
    const jobs = await sys.tiers.queue.query<{ id: string }>(
      `SELECT message->'payload'->>'message_id' AS id FROM pgmq.q_events ORDER BY msg_id DESC LIMIT 2`,
    )
    expect(jobs.map((j) => j.id).sort()).toEqual([lost.id, sent.id].sort())
  })

  test('the default deployment enqueues on commit, with nothing left in the outbox', async () => {
    const t = await createTenant(sys, 'direct')
    await sys.deps.outbox.kick()
    const before = await queued()
    const ref = await createMessage(sys.deps, t.id, input(t.accountId))
    await sys.deps.outbox.kick()
    expect(await countOutbox(sys.tiers.oltp)).toBe(0)
    expect(await queued()).toBe(before + 1)
    expect(ref.content_storage_key).toBe(messageKey(t.id, ref.id))
  })
})
