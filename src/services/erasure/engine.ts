/**
 * How an erasure request moves: a list of stages (person.ts, tenant.ts), each taken a step at a
 * time. A step reads what to do next, then commits its progress in one OLTP transaction with the
 * OLTP writes it makes; work on another tier is written into the request first (`pending`) and
 * applied after that commit, then cleared with its counts. So a run killed anywhere resumes where
 * it was: an uncommitted step is taken again, a written-down batch is applied again (every apply
 * is safe to repeat), and nothing is counted twice. Every commit moves the request's version on,
 * and a commit that finds the version moved (another copy of the job got there first) stops its run.
 */
import type { Queryable } from '../../db/types.ts'
import type { Deps } from '../../deps.ts'
import {
  completeRequest,
  getErasureRequest,
  lockAtVersion,
  saveProgress,
  type ErasureRequestRow,
  type TierCounts,
} from '../../tiers/oltp/erasure-requests.ts'

/** Work on another tier, written down before it is applied: `op` names an applier of the plan. */
export interface Pending {
  op: string
  args: unknown
  counts: TierCounts
}

/** What a step's OLTP writes report: counts to add, and (when they decide it) where the stage goes on. */
export interface Written {
  counts?: TierCounts
  next?: string | null
}

export interface Step {
  /** OLTP writes that commit with the step's progress. */
  oltp?: (tx: Queryable) => Promise<Written>
  pending?: Pending
  /** Counts the step found (a census before a stage deletes). */
  counts?: TierCounts
  /** Where the stage goes on; null: the stage is done. */
  next: string | null
  /** Something a worker holds right now names the person: take the stage again after this many seconds. */
  waitSeconds?: number
}

export interface Stage<C> {
  name: string
  step(ctx: C, cursor: string | null): Promise<Step>
}

export interface Plan<C> {
  context(deps: Deps, req: ErasureRequestRow): C
  stages: readonly Stage<C>[]
  /** The appliers of pending work, by op. */
  apply: Record<string, (ctx: C, args: any) => Promise<void>>
  /** OLTP writes that commit with the completion (the audit record; a tenant's row). */
  finish(tx: Queryable, ctx: C, req: ErasureRequestRow): Promise<void>
}

/** The stage after the last: the request completes. */
export const COMPLETE = 'complete'

export type RunResult = { kind: 'done' } | { kind: 'more' } | { kind: 'wait'; seconds: number } | { kind: 'superseded' }

/** Adds counts into a copy of `into`. */
export function addCounts(into: TierCounts, add: TierCounts | void | undefined): TierCounts {
  const out: TierCounts = structuredClone(into)
  for (const [tier, items] of Object.entries(add ?? {})) {
    for (const [name, n] of Object.entries(items)) {
      out[tier] ??= {}
      out[tier]![name] = (out[tier]![name] ?? 0) + n
    }
  }
  return out
}

/**
 * Commits a step at the version `req` was read at: the OLTP writes, then the progress. False when
 * another run moved the request on meanwhile (nothing of this step is written).
 */
async function commit(
  deps: Deps,
  req: ErasureRequestRow,
  to: {
    /** Where the stage goes on, unless the OLTP writes say otherwise, and the stage and cursor that makes. */
    next: string | null
    after: (next: string | null) => { stage: string; cursor: string | null }
    pending: Pending | null
    counts?: TierCounts
    oltp?: Step['oltp']
  },
): Promise<boolean> {
  return deps.tiers.oltp.transaction(async (tx) => {
    const locked = await lockAtVersion(tx, req, req.version)
    if (!locked) return false
    const written = to.oltp ? await to.oltp(tx) : {}
    const counts = addCounts(addCounts(locked.counts as TierCounts, to.counts), written.counts)
    const next = written.next === undefined ? to.next : written.next
    await saveProgress(tx, req, { ...to.after(next), pending: to.pending, counts })
    return true
  })
}

/** Completes the request with the plan's last writes, at the version it was read at. */
async function complete<C>(deps: Deps, plan: Plan<C>, ctx: C, req: ErasureRequestRow): Promise<boolean> {
  return deps.tiers.oltp.transaction(async (tx) => {
    const locked = await lockAtVersion(tx, req, req.version)
    if (!locked) return false
    await plan.finish(tx, ctx, locked)
    await completeRequest(tx, req, locked.counts as TierCounts)
    return true
  })
}

/**
 * Takes up to `maxSteps` steps of a request. `more`: call again; `wait`: call again after the
 * seconds given; `superseded`: another run moved it on and carries it from here; `done`: completed
 * (or no such request).
 */
export async function runPlan(
  deps: Deps,
  plans: Record<ErasureRequestRow['kind'], Plan<any>>,
  id: string,
  { maxSteps, signal }: { maxSteps: number; signal?: AbortSignal },
): Promise<RunResult> {
  for (let n = 0; n < maxSteps && !signal?.aborted; n++) {
    const req = await getErasureRequest(deps.tiers.oltp, id)
    if (!req || req.status === 'completed') return { kind: 'done' }
    const plan = plans[req.kind]
    const ctx = plan.context(deps, req)
    const pending = req.pending as Pending | null
    if (pending) {
      await plan.apply[pending.op]!(ctx, pending.args)
      const stay = { next: req.cursor, after: () => ({ stage: req.stage, cursor: req.cursor }) }
      if (!(await commit(deps, req, { ...stay, pending: null, counts: pending.counts }))) return { kind: 'superseded' }
      continue
    }
    const at = plan.stages.findIndex((s) => s.name === req.stage)
    if (at === -1) {
      if (req.stage !== COMPLETE) throw new Error(`erasure request ${id} is at an unknown stage ${req.stage}`)
      return (await complete(deps, plan, ctx, req)) ? { kind: 'done' } : { kind: 'superseded' }
    }
    const step = await plan.stages[at]!.step(ctx, req.cursor)
    if (step.waitSeconds !== undefined) return { kind: 'wait', seconds: step.waitSeconds }
    const moved = await commit(deps, req, {
      next: step.next,
      after: (next) => ({ stage: next === null ? (plan.stages[at + 1]?.name ?? COMPLETE) : req.stage, cursor: next }),
      pending: step.pending ?? null,
      counts: step.counts,
      oltp: step.oltp,
    })
    if (!moved) return { kind: 'superseded' }
  }
  return { kind: 'more' }
}
