/**
 * Suppression: the addresses a tenant must not mail. What adds one, by default:
 * - a hard bounce (the address or domain is dead: src/inbound/reasons.ts) or a complaint, at once;
 * - soft bounces that say the mailbox may be gone (full, disabled, unreachable, expired, system,
 *   undetermined), SOFT_BOUNCE_SUPPRESS_AFTER in a row within SOFT_BOUNCE_WINDOW_DAYS; a
 *   delivery or a reply ends the streak. Sender-side soft bounces (reputation, policy, content,
 *   authentication, rate, size, the recipient's own filters) never count: they say nothing about
 *   the address, and suppressing on them drops leads who are alive;
 * - an unsubscribe a provider reports, and the tenant by hand (POST /v1/suppressions).
 * Inbound mail suppresses only when the bounce or complaint is threaded to one of the tenant's
 * own messages, so a forged DSN cannot suppress an arbitrary address; a provider webhook is
 * trusted by its signature. POST /v1/messages refuses a suppressed recipient unless overridden.
 */
import type { Config } from '../config.ts'
import type { Deps } from '../deps.ts'
import { audit } from './audit.ts'
import type { Queryable } from '../db/types.ts'
import { invalid, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import type { BounceReason } from '../inbound/reasons.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { normalizeAddress } from '../redaction.ts'
import {
  countSoftBounces,
  deleteSuppression,
  endSoftBounceStreaks,
  findSuppression,
  insertSuppressions,
  listSuppressions as listRows,
  type NewSuppression,
  type SuppressionRow,
} from '../tiers/oltp/suppressions.ts'

export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'soft_bounces', 'unsubscribe', 'manual'] as const
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number]

/** Soft bounces that may mean the mailbox is gone, and so count toward suppression. */
const COUNTS_TOWARD_SUPPRESSION: ReadonlySet<BounceReason> = new Set([
  'mailbox_full',
  'mailbox_disabled',
  'expired',
  'network',
  'system',
  'undetermined',
])

/** Addresses compare without case and surrounding space; the list stores them so. */
export { normalizeAddress }

/** What one received message or provider event says about the addresses it names. */
export type DeliverySignal =
  | { kind: 'bounce'; emails: string[]; bounceType: 'hard' | 'soft'; reason: BounceReason | null; source: string; sourceMessageId: string | null }
  | { kind: 'complaint' | 'unsubscribe'; emails: string[]; source: string; sourceMessageId: string | null }
  /** A delivery to the address or a reply from it: it is alive. */
  | { kind: 'alive'; emails: string[] }

const addresses = (emails: readonly string[]) => [...new Set(emails.map(normalizeAddress).filter((e) => e.includes('@') && e.length <= 254))]

/**
 * Applies signals inside the caller's OLTP transaction, so a suppression commits with the bounce
 * or the webhook receipt that caused it. Returns the suppressions it added.
 */
export async function applySignals(
  tx: Queryable,
  config: Pick<Config, 'SOFT_BOUNCE_SUPPRESS_AFTER' | 'SOFT_BOUNCE_WINDOW_DAYS'>,
  tenantId: string,
  signals: readonly DeliverySignal[],
): Promise<SuppressionRow[]> {
  const add: NewSuppression[] = []
  const entry = (email: string, reason: SuppressionReason, s: { source: string; sourceMessageId: string | null }, bounceReason: string | null = null) =>
    add.push({ tenantId, id: newId(), email, reason, bounceReason, source: s.source, sourceMessageId: s.sourceMessageId, note: null })
  for (const s of signals) {
    const emails = addresses(s.emails)
    switch (s.kind) {
      case 'alive':
        await endSoftBounceStreaks(tx, tenantId, emails)
        break
      case 'complaint':
      case 'unsubscribe':
        for (const e of emails) entry(e, s.kind, s)
        break
      case 'bounce':
        if (s.bounceType === 'hard') {
          for (const e of emails) entry(e, 'hard_bounce', s, s.reason)
        } else if (config.SOFT_BOUNCE_SUPPRESS_AFTER > 0 && COUNTS_TOWARD_SUPPRESSION.has(s.reason ?? 'undetermined')) {
          const counts = await countSoftBounces(tx, tenantId, emails, config.SOFT_BOUNCE_WINDOW_DAYS)
          for (const [e, n] of counts) if (n >= config.SOFT_BOUNCE_SUPPRESS_AFTER) entry(e, 'soft_bounces', s, s.reason)
        }
    }
  }
  return insertSuppressions(tx, add)
}

/** A row as the API shows it. */
const view = (r: SuppressionRow) => ({
  id: r.id,
  email: r.email,
  reason: r.reason as SuppressionReason,
  bounce_reason: r.bounce_reason,
  source: r.source,
  source_message_id: r.source_message_id,
  note: r.note,
  created: r.created,
})
export type Suppression = ReturnType<typeof view>

export async function listSuppressions(deps: Deps, tenantId: string, page: PageRequest, reason?: SuppressionReason) {
  const result = await paged(page, (keyset) => listRows(deps.tiers.oltp, tenantId, keyset, reason))
  return { ...result, data: result.data.map(view) }
}

/** Suppresses an address by hand; one already listed is answered as it is (created: false). */
export async function addSuppression(deps: Deps, tenantId: string, input: { email: string; note?: string | null }) {
  const email = normalizeAddress(input.email)
  const row = await deps.tiers.oltp.transaction(async (tx) => {
    const [row] = await insertSuppressions(tx, [
      { tenantId, id: newId(), email, reason: 'manual', bounceReason: null, source: 'api', sourceMessageId: null, note: input.note ?? null },
    ])
    if (row) await audit(tx, { tenantId, action: 'suppression.create', targetType: 'suppression', targetId: row.id })
    return row
  })
  if (row) return { suppression: view(row), created: true }
  const existing = await findSuppression(deps.tiers.oltp, tenantId, email)
  if (!existing) throw new Error(`suppression of ${email} conflicted but is not there`)
  return { suppression: view(existing), created: false }
}

export async function removeSuppression(deps: Deps, tenantId: string, email: string): Promise<void> {
  const address = normalizeAddress(email)
  await deps.tiers.oltp.transaction(async (tx) => {
    if (!(await deleteSuppression(tx, tenantId, address))) throw notFound('suppression', 'email')
    // The address is the target (redacted by a person's erasure like any audit text naming it).
    await audit(tx, { tenantId, action: 'suppression.delete', targetType: 'suppression', targetId: address.slice(0, 100) })
  })
}

export async function checkSuppression(deps: Deps, tenantId: string, email: string) {
  const row = await findSuppression(deps.tiers.oltp, tenantId, normalizeAddress(email))
  return { email: normalizeAddress(email), suppressed: row !== undefined, suppression: row ? view(row) : null }
}

/** The answer to sending to a suppressed address: 422 naming to_email and why it is suppressed. */
export const suppressedRecipient = (email: string, s: { reason: string; bounce_reason: string | null }) =>
  invalid(
    `${email} is on the suppression list (${s.reason}${s.bounce_reason ? `: ${s.bounce_reason}` : ''})`,
    'to_email',
    'suppressed; set override_suppression to send anyway',
  )
