/**
 * Group commit (src/services/group-commit.ts): concurrent creates share their commits, each is
 * answered about its own rows, and a message the database refuses fails alone.
 */
import { describe, expect, test } from 'bun:test'
import { makeDeps, useSystem } from './support/system.ts'
import { createTenant, messageBody } from './support/api.ts'
import { countingDb } from './support/faults.ts'
import { depth } from './support/queues.ts'
import { tiersFrom, type Tiers } from '../src/db/tiers.ts'
import { createMessage, getMessage, type CreateMessageInput } from '../src/services/messages.ts'
import { findOrphanContent } from '../src/services/orphans.ts'
import { QUEUES } from '../src/tiers/queue/queues.ts'

const sys = useSystem()

const input = (accountId: string, extra: Partial<CreateMessageInput> = {}): CreateMessageInput => ({
  ...messageBody(accountId),
  direction: 'outbound',
  message_type: 'email',
  ...extra,
})

/** Deps whose OLTP (and queue, when they are one database) and content tiers are watched. */
function watchedDeps(poison: { content?: { sql: string; param: string }; oltp?: { sql: string; param: string } } = {}) {
  const content = countingDb(sys.tiers.content, poison.content)
  const oltp = countingDb(sys.tiers.oltp, poison.oltp)
  const shared = sys.tiers.oltp === sys.tiers.queue
  const tiers: Tiers = tiersFrom({ ...sys.tiers, content: content.db, oltp: oltp.db, queue: shared ? oltp.db : sys.tiers.queue })
  return { deps: makeDeps(tiers), content: content.counts, oltp: oltp.counts }
}

const poisoned = { filename: 'POISONED.bin', mime_type: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]), storage_disposition: 'attachment' }

const refsOf = (tenantId: string) =>
  sys.tiers.oltp.query<{ id: string; subject: string }>(`SELECT id, subject FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [tenantId])

describe('group commit', () => {
  test('concurrent creates share their transactions, and each reads back with its own content', async () => {
    const t = await createTenant(sys, 'grouped')
    const { deps, content, oltp } = watchedDeps()
    await deps.outbox.kick()
    const before = await depth(sys.tiers, QUEUES.events)
    const n = 24
    const refs = await Promise.all(
      Array.from({ length: n }, (_, i) => createMessage(deps, t.id, input(t.accountId, { subject: `m${i}`, content_text: `body of ${i}` }))),
    )
    // One content and one OLTP transaction per group; the first writes go alone, the rest wait and share.
    expect(content.transactions).toBeLessThan(n / 2)
    expect(oltp.transactions).toBeLessThan(n / 2)
    expect(new Set(refs.map((r) => r.id)).size).toBe(n)
    for (const [i, ref] of refs.entries()) {
      const m = await getMessage(sys.deps, t.id, ref.id)
      expect({ subject: m.subject, text: m.content.content_text }).toEqual({ subject: `m${i}`, text: `body of ${i}` })
    }
    await deps.outbox.kick()
    // Exactly one message.created job per message, whichever way the group enqueued them.
    expect(await depth(sys.tiers, QUEUES.events)).toBe(before + n)
  })

  for (const tier of ['content', 'oltp'] as const) {
    test(`a member the ${tier} tier refuses fails alone; the rest of its group is stored`, async () => {
      const t = await createTenant(sys, `poison-${tier}`)
      // Content: the bad member's attachment row (its name is stored as given); OLTP: its ref.
      const poison = tier === 'content' ? { sql: 'INSERT INTO content.attachments', param: 'POISONED' } : { sql: 'INSERT INTO oltp.inbox_message_refs', param: 'POISONED' }
      const { deps, content } = watchedDeps({ [tier]: poison })
      const n = 12
      const bad = 7
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          createMessage(deps, t.id, input(t.accountId, i === bad ? { subject: 'POISONED', attachments: [poisoned] } : { subject: `ok${i}`, content_text: `fine ${i}` })),
        ),
      )
      expect(results.map((r) => r.status)).toEqual(results.map((_, i) => (i === bad ? 'rejected' : 'fulfilled')))
      expect((results[bad] as PromiseRejectedResult).reason.message).toBe('injected fault')
      // It was grouped: the retry alone happened because a shared transaction failed.
      expect(content.transactions).toBeLessThan(2 * n)
      const stored = await refsOf(t.id)
      expect(stored.map((r) => r.subject).sort()).toEqual(Array.from({ length: n }, (_, i) => `ok${i}`).filter((_, i) => i !== bad).sort())
      for (const r of results) {
        if (r.status !== 'fulfilled') continue
        expect((await getMessage(sys.deps, t.id, r.value.id)).content.content_text).toMatch(/^fine \d+$/)
      }
      // A ref refused after its content committed leaves that content an orphan for the collector, never a ref without content.
      const orphans = (await findOrphanContent(sys.deps, new Date(Date.now() + 60_000))).filter((o) => o.tenant_id === t.id)
      expect(orphans).toHaveLength(tier === 'oltp' ? 1 : 0)
    })
  }

  test('a member whose hook fails between the two commits fails alone, its content an orphan', async () => {
    const t = await createTenant(sys, 'hooked')
    const { deps } = watchedDeps()
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        createMessage(deps, t.id, input(t.accountId, { subject: `h${i}` }), i === 5 ? { afterContentWrite: () => Promise.reject(new Error('killed here')) } : {}),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
    expect((await refsOf(t.id)).map((r) => r.subject).sort()).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h6', 'h7'])
    const orphans = (await findOrphanContent(sys.deps, new Date(Date.now() + 60_000))).filter((o) => o.tenant_id === t.id)
    expect(orphans).toHaveLength(1)
  })
})
