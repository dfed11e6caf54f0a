/** Retention policy: how long each kind of content lives, and when it moves to the warm archive. */
import type { ContentKind } from '../tiers/content/objects.ts'

export interface RetentionPolicy {
  /** Days a body lives, per kind; null keeps it forever. */
  content_ttl_days: Record<ContentKind, number | null>
  /** Days attachment bytes live; null keeps them as long as their message. */
  attachments_ttl_days: number | null
  /** Days before a body is recompressed into the warm archive; null never. */
  archive_after_days: number | null
}

/**
 * For a tenant that set nothing: two years of correspondence, a quarter of transactional mail,
 * a month of notifications, attachments for a year, archived after a month.
 */
export const DEFAULT_POLICY: RetentionPolicy = {
  content_ttl_days: { outbound: 730, inbound: 730, transactional: 90, notification: 30 },
  attachments_ttl_days: 365,
  archive_after_days: 30,
}

export function expiresAt(policy: RetentionPolicy, kind: ContentKind, from = new Date()): Date | null {
  const days = policy.content_ttl_days[kind]
  return days === null ? null : new Date(from.getTime() + days * 86_400_000)
}
