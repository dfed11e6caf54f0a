/** The warm tier: old bodies recompressed in place, smaller, and read back byte for byte. */
import { describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { runVisible } from '../support/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { getContentObject } from '../../src/tiers/content/objects.ts'
import { DEFAULT_POLICY } from '../../src/tiers/content/retention.ts'
import { corpus } from '../../datagen/corpus.ts'

const sys = useSystem()

async function archiveNow() {
  await enqueue(sys.tiers.queue, 'content.archive', { batch_size: 200 })
  await runVisible(sys)
}

const backdate = (tenantId: string, days: number) =>
  sys.tiers.content.query(`UPDATE content.content_objects SET created = now() - make_interval(days => $2) WHERE tenant_id = $1`, [tenantId, days])

describe('warm archive', () => {
  test('bodies past archive-after are recompressed smaller and still read back byte for byte', async () => {
    const t = await createTenant(sys, 'archive')
    const [body] = corpus(1, 7)
    const big = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: body!.text, content_html: body!.html }) })
    const small = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: 'short' }) })
    const before = await getContentObject(sys.tiers.content, t.id, big.body.content_storage_key)
    const etag = (await call(sys, 'GET', `/v1/messages/${big.body.id}/content`, { token: t.key })).headers.get('etag')

    await archiveNow()
    expect((await getContentObject(sys.tiers.content, t.id, big.body.content_storage_key))!.archived).toBe(false) // too young
    await backdate(t.id, DEFAULT_POLICY.archive_after_days! + 1)
    await archiveNow()

    const after = await getContentObject(sys.tiers.content, t.id, big.body.content_storage_key)
    expect(after).toMatchObject({ archived: true, compression_type: 'zstd' })
    const storedBefore = before!.content_html_packed!.length + before!.content_text_packed!.length
    const storedAfter = after!.content_html_packed!.length + after!.content_text_packed!.length
    expect(storedAfter).toBeLessThan(storedBefore)
    const read = await call(sys, 'GET', `/v1/messages/${big.body.id}/content`, { token: t.key })
    expect(read.body).toMatchObject({ content_text: body!.text, content_html: body!.html })
    expect(read.headers.get('etag')).toBe(etag) // the same representation: clients' caches stay valid
    expect((await call(sys, 'GET', `/v1/messages/${small.body.id}/content`, { token: t.key })).body.content_text).toBe('short')
    expect((await call(sys, 'GET', '/v1/storage', { token: t.key })).body.archived_objects).toBe(2)
  })

  test('a tenant whose policy never archives keeps its bodies hot', async () => {
    const t = await createTenant(sys, 'no-archive')
    await call(sys, 'PUT', '/v1/retention-policy', { token: t.key, body: { ...DEFAULT_POLICY, archive_after_days: null } })
    const m = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { content_text: 'x'.repeat(5000) }) })
    await backdate(t.id, 400)
    await archiveNow()
    expect((await getContentObject(sys.tiers.content, t.id, m.body.content_storage_key))!.archived).toBe(false)
  })
})
