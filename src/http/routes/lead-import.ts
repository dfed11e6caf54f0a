import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { importLeads } from '../../services/lead-import.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { importFormat, IMPORT_TYPES, leadRows } from '../lead-import.ts'
import { MAX_IMPORT_ERRORS, MAX_IMPORT_ROWS } from '../../limits.ts'
import { apiKey, json, tenantErrors } from '../schemas.ts'

const RowError = z.object({
  row: z.number().int().openapi({ description: 'The line of the body where the row starts (1-based; a CSV header is line 1)' }),
  field: z.string().openapi({ description: 'email, first_name, last_name, or (row) for the row as a whole' }),
  message: z.string(),
})

const ImportReport = z
  .object({
    rows: z.number().int().openapi({ description: 'Data rows read (blank lines and the CSV header not counted)' }),
    created: z.number().int(),
    updated: z.number().int().openapi({ description: 'Known addresses whose names the row changed' }),
    unchanged: z.number().int().openapi({ description: 'Known addresses the row changed nothing of' }),
    failed: z.number().int().openapi({ description: 'Rows not imported; errors says why' }),
    suppressed: z.number().int().openapi({ description: 'Imported rows whose address is on the suppression list (still not mailable)' }),
    ignored_columns: z.array(z.string()).openapi({ description: 'CSV columns or NDJSON keys the import does not use' }),
    errors: z.array(RowError).openapi({ description: `The first ${MAX_IMPORT_ERRORS} problems, in row order` }),
    errors_truncated: z.boolean(),
  })
  .openapi('LeadImportReport')

export function leadImportRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'post',
      path: '/import',
      tags: ['leads'],
      operationId: 'importLeads',
      summary: 'Import leads from CSV or NDJSON, with a report per row',
      description:
        `Scope leads:write. Content-Type ${IMPORT_TYPES.csv} (a header row naming email, first_name, last_name; other ` +
        `columns are ignored and listed) or ${IMPORT_TYPES.ndjson} (one JSON object per line), UTF-8, at most ` +
        `${MAX_IMPORT_ROWS} rows (413 beyond, nothing imported). Each row is checked like POST /v1/leads; a bad row is ` +
        'reported by line and field and the rest import. Idempotent on the address: a known one gets the names the ' +
        'row gives (an empty cell keeps the stored name), so a second import of the same file reports every row ' +
        'unchanged. An address repeated in the file fails on its later rows. Suppressed addresses are imported and ' +
        'counted; the suppression still blocks sending to them. The valid rows commit together.',
      security: apiKey,
      request: {
        body: {
          required: true,
          content: {
            [IMPORT_TYPES.csv]: { schema: z.string(), example: ex.leadImportCsv },
            [IMPORT_TYPES.ndjson]: { schema: z.string(), example: ex.leadImportNdjson },
          },
        },
      },
      // Rows are not parsed as one JSON document, so no 400: a malformed line is a failed row.
      responses: { 200: json('What the import did, row by row', ImportReport, ex.leadImportReport), ...tenantErrors(413, 415, 422, 503) },
    }),
    async (c) => {
      const format = importFormat(c.req.header('content-type'))
      // With an Idempotency-Key the body was read already (to compare retries); else it streams from the client.
      const body = c.req.raw.bodyUsed ? new Response(await c.req.arrayBuffer()).body : c.req.raw.body
      return c.json(await importLeads(deps, c.get('tenantId'), leadRows(format, body)), 200)
    },
  )
}
