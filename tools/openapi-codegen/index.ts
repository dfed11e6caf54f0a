/**
 * The typed client's source: openapi-typescript over the app's OpenAPI document. One function, so
 * `npm run openapi:types` (which writes the file) and the test that checks the committed file is
 * current produce the same text.
 */
import openapiTS, { astToString } from 'openapi-typescript'

const HEADER = `/**
 * Generated from the app's /openapi.json by openapi-typescript (\`npm run openapi:types\`).
 * Do not edit: change the routes' schemas and generate again.
 */

`

export async function generateTypes(document: object): Promise<string> {
  // The document comes straight from the app, so it is not written out and read back.
  // defaultNonNullable off: a request field with a default (direction, delay_days…) may be left out.
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0], { silent: true, defaultNonNullable: false })
  return HEADER + astToString(ast)
}
