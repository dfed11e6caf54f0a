import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { storageReport } from '../../services/operations.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, json, tenantErrors } from '../schemas.ts'

export const StorageReportSchema = z
  .object({
    objects: z.number().int(),
    raw_bytes: z.number().int(),
    stored_bytes: z.number().int(),
    archived_objects: z.number().int(),
    expired_objects: z.number().int(),
    attachments: z.object({
      count: z.number().int(),
      unique_blobs: z.number().int(),
      raw_bytes: z.number().int(),
      stored_bytes: z.number().int(),
    }),
  })
  .openapi('StorageReport')

/** GET /v1/storage: the caller's content, raw against stored. */
export function storageRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['content'],
      operationId: 'getStorageReport',
      summary: 'How much content you store: raw bytes against stored bytes, archived, expired, attachments',
      description: 'Scope admin. Attachments count once per distinct content (unique_blobs).',
      security: apiKey,
      responses: { 200: json('The report', StorageReportSchema, ex.storage), ...tenantErrors() },
    }),
    async (c) => c.json(await storageReport(deps, c.get('tenantId')), 200),
  )
}
