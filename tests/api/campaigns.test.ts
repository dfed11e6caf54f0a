/**
 * Campaigns through their life: the status machine written out as a table (every pair of
 * statuses tried through the API), activation needing a step, deletion refused once messages
 * name a campaign or a step, and sequence steps read, changed and deleted one by one.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { useSystem } from '../support/system.ts'

const sys = useSystem()

const STATUSES = ['draft', 'active', 'paused', 'completed', 'archived'] as const
type Status = (typeof STATUSES)[number]

/** The machine as the README states it: where each status may go (staying put is always allowed). */
const ALLOWED: Record<Status, Status[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'completed'],
  paused: ['active', 'completed', 'archived'],
  completed: ['archived'],
  archived: [],
}
/** A way to reach each status from draft. */
const PATH: Record<Status, Status[]> = {
  draft: [],
  active: ['active'],
  paused: ['active', 'paused'],
  completed: ['active', 'completed'],
  archived: ['archived'],
}

async function campaignWithStep(t: TenantFixture, name = 'c') {
  const c = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name } })
  const s = await call(sys, 'POST', `/v1/campaigns/${c.body.id}/steps`, { token: t.key, body: { step_number: 1, subject: 'Hi' } })
  expect([c.status, s.status]).toEqual([201, 201])
  return { id: c.body.id as string, stepId: s.body.id as string }
}

const patch = (t: TenantFixture, id: string, body: unknown) => call(sys, 'PATCH', `/v1/campaigns/${id}`, { token: t.key, body })

describe('campaign status', () => {
  test('every pair of statuses: allowed moves answer 200, the rest 409 naming status and where it can go', async () => {
    const t = await createTenant(sys)
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const { id } = await campaignWithStep(t, `${from}->${to}`)
        for (const step of PATH[from]) expect((await patch(t, id, { status: step })).status).toBe(200)
        const r = await patch(t, id, { status: to })
        const ok = from === to || ALLOWED[from].includes(to)
        expect({ from, to, status: r.status }).toEqual({ from, to, status: ok ? 200 : 409 })
        if (ok) expect(r.body.status).toBe(to)
        else {
          expect(r.body.errors).toEqual([{ field: 'status', message: ALLOWED[from].length ? `from ${from} it can become ${ALLOWED[from].join(', ')}` : `${from} is final` }])
          expect((await call(sys, 'GET', `/v1/campaigns/${id}`, { token: t.key })).body.status).toBe(from)
        }
      }
    }
  }, 120_000)

  test('a campaign becomes active only with a sequence step', async () => {
    const t = await createTenant(sys)
    const c = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'empty' } })
    const refused = await patch(t, c.body.id, { status: 'active' })
    expect(refused.status).toBe(409)
    expect(refused.body.errors).toEqual([{ field: 'status', message: 'add a step first' }])
    await call(sys, 'POST', `/v1/campaigns/${c.body.id}/steps`, { token: t.key, body: { step_number: 1 } })
    expect((await patch(t, c.body.id, { status: 'active' })).body.status).toBe('active')
  })

  test('rename and status in one request; an unknown status or field is a 422 naming it and changes nothing', async () => {
    const t = await createTenant(sys)
    const { id } = await campaignWithStep(t)
    const r = await patch(t, id, { name: 'Spring push', status: 'active' })
    expect(r.body).toMatchObject({ id, name: 'Spring push', status: 'active' })
    for (const [body, field] of [
      [{ status: 'running' }, 'status'],
      [{ name: '' }, 'name'],
      [{ name: 'x', owner: 'me' }, 'owner'],
    ] as const) {
      const bad = await patch(t, id, body)
      expect({ field, status: bad.status, named: bad.body.errors?.map((e: any) => e.field) }).toEqual({ field, status: 422, named: [field] })
    }
    expect((await call(sys, 'GET', `/v1/campaigns/${id}`, { token: t.key })).body).toMatchObject({ name: 'Spring push', status: 'active' })
  })

  test('two concurrent moves from the same status: the row lock lets exactly one pass its check', async () => {
    const t = await createTenant(sys)
    const { id } = await campaignWithStep(t)
    await patch(t, id, { status: 'active' })
    await patch(t, id, { status: 'paused' })
    // From paused both are allowed, and neither is allowed from the other: the second to commit must see the first.
    const [resumed, archived] = await Promise.all([patch(t, id, { status: 'active' }), patch(t, id, { status: 'archived' })])
    expect([resumed.status, archived.status].sort()).toEqual([200, 409])
    const winner = resumed.status === 200 ? 'active' : 'archived'
    expect((await call(sys, 'GET', `/v1/campaigns/${id}`, { token: t.key })).body.status).toBe(winner)
  })
})

describe('deleting campaigns', () => {
  test('a campaign no message names is deleted with its steps', async () => {
    const t = await createTenant(sys)
    const { id, stepId } = await campaignWithStep(t)
    expect((await call(sys, 'DELETE', `/v1/campaigns/${id}`, { token: t.key })).status).toBe(204)
    expect((await call(sys, 'GET', `/v1/campaigns/${id}`, { token: t.key })).status).toBe(404)
    expect((await call(sys, 'GET', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key })).status).toBe(404)
    expect((await call(sys, 'DELETE', `/v1/campaigns/${id}`, { token: t.key })).status).toBe(404)
  })

  test('a campaign whose step messages name answers 409 and can be archived instead, messages untouched', async () => {
    const t = await createTenant(sys)
    const { id, stepId } = await campaignWithStep(t)
    const msg = await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, { sequence_step_id: stepId }) })
    expect(msg.body.campaign_id).toBe(id)
    const refused = await call(sys, 'DELETE', `/v1/campaigns/${id}`, { token: t.key })
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toContain('archive')
    expect(refused.body.errors).toEqual([{ field: 'id', message: 'has messages' }])
    expect((await call(sys, 'DELETE', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key })).status).toBe(409)
    expect((await patch(t, id, { status: 'archived' })).body.status).toBe('archived')
    const listed = await call(sys, 'GET', `/v1/messages?campaign_id=${id}`, { token: t.key })
    expect(listed.body.data.map((m: any) => [m.id, m.sequence_step_id])).toEqual([[msg.body.id, stepId]])
  })
})

describe('sequence steps', () => {
  test('read, change and delete one step; a field left out keeps its value, subject null clears it', async () => {
    const t = await createTenant(sys)
    const { id, stepId } = await campaignWithStep(t)
    const got = await call(sys, 'GET', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key })
    expect(got.body).toMatchObject({ id: stepId, campaign_id: id, step_number: 1, subject: 'Hi', delay_days: 0 })
    const changed = await call(sys, 'PATCH', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key, body: { step_number: 3, delay_days: 4 } })
    expect(changed.body).toMatchObject({ step_number: 3, subject: 'Hi', delay_days: 4 })
    const cleared = await call(sys, 'PATCH', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key, body: { subject: null } })
    expect(cleared.body).toMatchObject({ step_number: 3, subject: null, delay_days: 4 })
    expect((await call(sys, 'DELETE', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key })).status).toBe(204)
    expect((await call(sys, 'GET', `/v1/campaigns/${id}/steps`, { token: t.key })).body.data).toEqual([])
  })

  test('a number another step has is 409 naming step_number; bad values are 422 naming the field', async () => {
    const t = await createTenant(sys)
    const { id, stepId } = await campaignWithStep(t)
    await call(sys, 'POST', `/v1/campaigns/${id}/steps`, { token: t.key, body: { step_number: 2 } })
    const taken = await call(sys, 'PATCH', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key, body: { step_number: 2 } })
    expect(taken.status).toBe(409)
    expect(taken.body.errors).toEqual([{ field: 'step_number', message: 'already exists' }])
    for (const [body, field] of [
      [{ step_number: 0 }, 'step_number'],
      [{ delay_days: -1 }, 'delay_days'],
      [{ subject: 'a\nBcc: x@example.com' }, 'subject'],
      [{ campaign_id: id }, 'campaign_id'],
    ] as const) {
      const bad = await call(sys, 'PATCH', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key, body })
      expect({ field, status: bad.status, named: bad.body.errors?.map((e: any) => e.field) }).toEqual({ field, status: 422, named: [field] })
    }
    expect((await call(sys, 'GET', `/v1/campaigns/${id}/steps/${stepId}`, { token: t.key })).body.step_number).toBe(1)
  })

  test('a step reached through another campaign of the same tenant is 404', async () => {
    const t = await createTenant(sys)
    const one = await campaignWithStep(t, 'one')
    const two = await campaignWithStep(t, 'two')
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const r = await call(sys, method, `/v1/campaigns/${two.id}/steps/${one.stepId}`, { token: t.key, body: method === 'PATCH' ? { delay_days: 5 } : undefined })
      expect({ method, status: r.status }).toEqual({ method, status: 404 })
    }
    expect((await call(sys, 'GET', `/v1/campaigns/${one.id}/steps/${one.stepId}`, { token: t.key })).body.delay_days).toBe(0)
  })
})
