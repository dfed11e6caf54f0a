/** The erasure.run job's one call: a few steps of a request, person or tenant (engine.ts says how). */
import type { Deps } from '../../deps.ts'
import { runPlan, type RunResult } from './engine.ts'
import { personPlan } from './person.ts'
import { tenantPlan } from './tenant.ts'

/** Steps per job: a few seconds of work, then the job enqueues the next run (so other jobs get their turn). */
export const STEPS_PER_RUN = 25

export function runErasure(deps: Deps, requestId: string, opts: { maxSteps?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
  return runPlan(deps, { person: personPlan, tenant: tenantPlan }, requestId, { maxSteps: opts.maxSteps ?? STEPS_PER_RUN, signal: opts.signal })
}
