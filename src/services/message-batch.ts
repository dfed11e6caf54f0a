/**
 * Batch ingest (POST /v1/messages/batch): many messages in one request, each checked and stored
 * on its own terms. The references of the whole batch are checked in one OLTP read; the messages
 * that pass go to the group commit together (src/services/group-commit.ts), so a batch of 500
 * costs one content and one OLTP transaction, not a thousand.
 */
import type { Deps } from '../deps.ts'
import { AppError } from '../errors.ts'
import { checkMessageReferencesMany, type MessageRefRow } from '../tiers/oltp/messages.ts'
import { prepareWrite, type PreparedWrite } from './message-write.ts'
import { checkedMessage, duplicateInbound, referencesOf, resolveReferences, type CreateMessageInput } from './messages.ts'

/** Messages in one batch at most; the request body's byte limit (MAX_BODY_BYTES) binds too. */
export const MAX_BATCH_MESSAGES = 500

/** One item's outcome, in the batch's order: stored, or why not (a domain error, or a fault). */
export type BatchOutcome = { ok: true; ref: MessageRefRow } | { ok: false; error: unknown }

/**
 * Stores every item that is not already refused (`AppError` in place of an input: the caller's
 * own validation failed it). An item the database refuses fails alone; the others are stored.
 */
export async function createMessages(deps: Deps, tenantId: string, items: readonly (CreateMessageInput | AppError)[]): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = items.map((i) => (i instanceof AppError ? { ok: false, error: i } : { ok: false, error: undefined }))
  const valid = items.flatMap((input, index) => (input instanceof AppError ? [] : [{ input, index }]))
  const checks = await checkMessageReferencesMany(deps.tiers.oltp, tenantId, valid.map((v) => referencesOf(v.input)))
  const ready: { index: number; write: PreparedWrite }[] = []
  for (const [k, { input, index }] of valid.entries()) {
    try {
      const message = checkedMessage(input, resolveReferences(checks[k]!, input).campaignId)
      ready.push({ index, write: prepareWrite(deps, tenantId, message) })
    } catch (error) {
      outcomes[index] = { ok: false, error }
    }
  }
  const settled = await deps.writes.writeAll(ready.map((r) => r.write))
  for (const [k, s] of settled.entries()) {
    const { index } = ready[k]!
    if (s.status === 'rejected') outcomes[index] = { ok: false, error: s.reason }
    else outcomes[index] = s.value.created ? { ok: true, ref: s.value.ref } : { ok: false, error: duplicateInbound() }
  }
  return outcomes
}
