/**
 * What an API key may do. A route names the one scope it needs (src/http/app.ts); a key without
 * it is refused with 403 naming the scope. The key made with a tenant holds every scope.
 */
export const SCOPES = [
  'messages:read',
  'messages:write',
  'events:write',
  'analytics:read',
  'inbound:write',
  'campaigns:read',
  'campaigns:write',
  'leads:read',
  'leads:write',
  /** Keys, the retention policy, storage figures: the tenant's own administration. */
  'admin',
] as const

export type Scope = (typeof SCOPES)[number]
