/**
 * Invariants 1 and 2 on the write path: content is written before the ref, so a crash between the
 * two leaves detectable orphan content and never a ref without content; a ref and its event
 * commit together, directly (shared database) or through the outbox (separate databases).
 */
import { describe, expect, test } from 'bun:test'
import { makeDeps, useSystem } from './support/system.ts'
import { createTenant, messageBody } from './support/api.ts'
import { faultyDb } from './support/faults.ts'
import { createMessage, type CreateMessageInput } from '../src/services/messages.ts'
import { findOrphanContent } from '../src/services/orphans.ts'
import { tiersFrom, type Tiers } from '../src/db/tiers.ts'
import { getMessageRef } from '../src/tiers/oltp/messages.ts'
import { getContentObject } from '../src/tiers/content/objects.ts'
import { countOutbox } from '../src/tiers/oltp/outbox.ts'
import { metrics } from '../src/tiers/queue/pgmq.ts'
import { OutboxRelay } from '../src/events/outbox-relay.ts'
import { storageKeyFor } from '../src/content/keys.ts'

const sys = useSystem()

const input = (accountId: string, extra: Partial<CreateMessageInput> = {}): CreateMessageInput => ({
  ...messageBody(accountId),
  direction: 'outbound',
  message_type: 'email',
  ...extra,
})

const queued = async (tiers: Tiers) => Number((await metrics(tiers.queue, 'events')).queue_length)
const soon = () => new Date(Date.now() + 60_000)

describe('content first, ref second', () => {
  test('a crash after the content write leaves an orphan that the scan finds, and no ref', async () => {
    const t = await createTenant(sys, 'crash')
    let storageKey = ''
    const crash = createMessage(sys.deps, t.id, input(t.accountId, { content_text: 'lost?' }), {
      afterContentWrite: () => {
        throw new Error('process killed here')
      },
    })
    await expect(crash).rejects.toThrow('process killed here')

    const orphans = await findOrphanContent(sys.tiers, soon())
    const mine = orphans.filter((o) => o.tenant_id === t.id)
    expect(mine).toHaveLength(1)
    storageKey = mine[0]!.storage_key
    const messageId = storageKey.split('/').pop()!
    expect(await getMessageRef(sys.tiers.oltp, t.id, messageId)).toBeUndefined()
    expect(await getContentObject(sys.tiers.content, t.id, storageKey)).toBeDefined()

    // A completed write is never reported as an orphan.
    const ok = await createMessage(sys.deps, t.id, input(t.accountId))
    const after = (await findOrphanContent(sys.tiers, soon())).map((o) => o.storage_key)
    expect(after).toContain(storageKey)
    expect(after).not.toContain(ok.content_storage_key)
  })

  test('a failed ref write never leaves a ref pointing at missing content', async () => {
    const t = await createTenant(sys, 'contentfail')
    const tiers = tiersFrom({ ...sys.tiers, content: faultyDb(sys.tiers.content, (s) => s.includes('content.attachments')) })
    const deps = makeDeps(tiers)
    const attempt = createMessage(deps, t.id, input(t.accountId, {
      attachments: [{ filename: 'a.bin', mime_type: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]), storage_disposition: 'attachment' }],
    }))
    await expect(attempt).rejects.toThrow('injected fault')
    // The content transaction rolled back as a whole, and no ref was written after it.
    expect(await findOrphanContent(sys.tiers, soon())).not.toContainEqual(expect.objectContaining({ tenant_id: t.id }))
    const refs = await sys.tiers.oltp.query(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
    expect(refs).toHaveLength(0)
  })
})

describe('the ref and its event', () => {
  test('commit together: a failing enqueue rolls the ref back', async () => {
    const t = await createTenant(sys, 'atomic')
    // Fail whichever enqueue this deployment uses: pgmq.send (shared database) or the outbox.
    const oltp = faultyDb(sys.tiers.oltp, (s) => s.includes('pgmq.send') || s.includes('oltp.outbox'))
    const shared = sys.tiers.oltp === sys.tiers.queue
    const tiers = tiersFrom({ ...sys.tiers, oltp, queue: shared ? oltp : sys.tiers.queue })
    const before = await queued(sys.tiers)
    await expect(createMessage(makeDeps(tiers), t.id, input(t.accountId))).rejects.toThrow('injected fault')
    const refs = await sys.tiers.oltp.query(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
    expect(refs).toHaveLength(0)
    expect(await queued(sys.tiers)).toBe(before)
  })

  test('separate databases: a crash before the relay loses nothing; the sweep delivers it', async () => {
    const t = await createTenant(sys, 'outbox')
    // A distinct queue Db object: the write path must treat OLTP and queue as separate databases.
    const tiers = tiersFrom({ ...sys.tiers, queue: faultyDb(sys.tiers.queue) })
    const deps = makeDeps(tiers)
    deps.outbox = { kick: async () => 0 } as unknown as OutboxRelay // the process dies before relaying
    const before = await queued(sys.tiers)
    const ref = await createMessage(deps, t.id, input(t.accountId))
    expect(await countOutbox(sys.tiers.oltp)).toBe(1)
    expect(await queued(sys.tiers)).toBe(before)

    const moved = await new OutboxRelay(tiers, deps.log).kick()
    expect(moved).toBe(1)
    expect(await countOutbox(sys.tiers.oltp)).toBe(0)
    expect(await queued(sys.tiers)).toBe(before + 1)
    const [msg] = await sys.tiers.queue.query<{ message: any }>(`SELECT message FROM pgmq.q_events ORDER BY msg_id DESC LIMIT 1`)
    expect(msg!.message).toMatchObject({ job: 'message.created', payload: { message_id: ref.id, tenant_id: t.id } })
  })

  test('the default deployment enqueues on commit, with nothing left in the outbox', async () => {
    const t = await createTenant(sys, 'direct')
    const before = await queued(sys.tiers)
    const ref = await createMessage(sys.deps, t.id, input(t.accountId))
    await sys.deps.outbox.kick()
    expect(await countOutbox(sys.tiers.oltp)).toBe(0)
    expect(await queued(sys.tiers)).toBe(before + 1)
    expect(ref.content_storage_key).toBe(storageKeyFor(t.id, ref.id))
  })
})
