/**
 * An erasure killed part way resumes to the same result. The fault is injected into one tier's
 * statements (tests/support/faults.ts) while the real worker runs the erasure.run job: inside a
 * tier's apply, between the apply and the OLTP commit that records it, inside the OLTP step. The
 * job fails, its message comes back, healthy workers finish it: the person is nowhere, and every
 * count is what an uninterrupted run reports (nothing skipped, nothing counted twice). Two copies
 * of the job running at once also end in the same counts.
 */
import { describe, expect, test } from 'bun:test'
import type { Tiers } from '../../src/db/tiers.ts'
import { runErasure } from '../../src/services/erasure/run.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call } from '../support/api.ts'
import { faultyDb } from '../support/faults.ts'
import { drainQueues } from '../support/queues.ts'
import { searchTiers } from '../support/search.ts'
import { makeDeps, testConfig, useSystem } from '../support/system.ts'
import { buildWorld, ERASED_COUNTS } from './world.ts'

const config = testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' })
const sys = useSystem(config)

/**
 * Tiers whose statements fail once: the first statement of `tier` matching `at` once `after` (any
 * tier's statement) has been seen. Returns the tiers and whether the fault fired.
 */
function faultOnce(tiers: Tiers, tier: 'oltp' | 'content' | 'analytics' | 'queue', at: RegExp, after?: RegExp) {
  const state = { armed: after === undefined, fired: false }
  const watch = (name: string) => (text: string) => {
    if (!state.armed && after?.test(text)) state.armed = true
    if (name !== tier || !state.armed || state.fired || !at.test(text)) return false
    state.fired = true
    return true
  }
  const wrap = (name: 'oltp' | 'content' | 'analytics' | 'queue') => faultyDb(tiers[name], watch(name), `injected fault in ${name}`)
  const faulty = { ...tiers, oltp: wrap('oltp'), content: wrap('content'), analytics: wrap('analytics'), queue: wrap('queue') }
  return { tiers: faulty as Tiers, state }
}

const FAULTS = [
  { name: 'inside the content apply', tier: 'content', at: /DELETE FROM content\.attachments/ },
  { name: 'after the content apply, before its progress commits', tier: 'oltp', at: /UPDATE oltp\.erasure_requests/, after: /DELETE FROM content\.content_objects/ },
  { name: 'inside the OLTP step that marks the refs', tier: 'oltp', at: /UPDATE oltp\.inbox_message_refs/ },
  { name: 'between tiers: the first queue statement', tier: 'queue', at: /UPDATE pgmq\./ },
  { name: 'after the analytics apply, before its progress commits', tier: 'oltp', at: /UPDATE oltp\.erasure_requests/, after: /UPDATE analytics\.events/ },
] as const

describe('an erasure killed part way', () => {
  for (const [i, f] of FAULTS.entries()) {
    test(`resumes to the same result: ${f.name}`, async () => {
      const person = `crash-${i}@example.com`
      const w = await buildWorld(sys, `erase-crash-${i}`, person, `witness-${i}@example.org`)
      const r = await call(sys, 'POST', '/v1/erasure-requests', { token: w.key, body: { email: person } })
      const { tiers, state } = faultOnce(sys.tiers, f.tier, f.at, 'after' in f ? f.after : undefined)
      const crashing = new Worker(makeDeps(tiers, { config }), { queues: [QUEUES.jobs], jobs: HANDLERS })
      await sys.deps.outbox.kick() // separate databases: the request's job waits in the OLTP outbox
      for (let n = 0; n < 20 && !state.fired; n++) await crashing.runOnce(QUEUES.jobs)
      expect(state.fired).toBe(true)
      expect((await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: w.key })).body.status).not.toBe('completed')

      await drainQueues(sys)
      const done = (await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: w.key })).body
      expect(done.status).toBe('completed')
      expect(done.tiers).toEqual(ERASED_COUNTS)
      expect(await searchTiers(sys.tiers, person)).toEqual([])
    })
  }

  test('two runs of the same request at once move it on together: the same counts', async () => {
    const w = await buildWorld(sys, 'erase-twice', 'twin@example.com', 'single@example.org')
    const r = await call(sys, 'POST', '/v1/erasure-requests', { token: w.key, body: { email: 'twin@example.com' } })
    for (let n = 0; n < 200; n++) {
      const runs = await Promise.all([runErasure(sys.deps, r.body.id, { maxSteps: 3 }), runErasure(sys.deps, r.body.id, { maxSteps: 3 })])
      if (runs.some((run) => run.kind === 'done')) break
    }
    const done = (await call(sys, 'GET', `/v1/erasure-requests/${r.body.id}`, { token: w.key })).body
    expect(done.tiers).toEqual(ERASED_COUNTS)
    expect(await searchTiers(sys.tiers, 'twin@example.com')).toEqual([])
    await drainQueues(sys)
  })
})
