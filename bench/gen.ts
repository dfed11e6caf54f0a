/**
 * `npm run gen -- --messages N --tenants T --seed S [--database NAME]`: generates a deterministic
 * email platform (same options, same data) and loads it into both designs on the benchmark
 * PostgreSQL server (BENCH_PG_URL). `npm run bench` reuses it when the options match.
 */
import { parseArgs } from 'node:util'
import { generate } from './dataset/load.ts'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    tenants: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    database: { type: 'string', default: 'edp_bench_dataset' },
  },
})
const toInt = (name: string, v: string | undefined, min: number) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`)
  return n
}
const options = { messages: toInt('messages', values.messages, 1), tenants: toInt('tenants', values.tenants, 1), seed: toInt('seed', values.seed, 0) }
const info = await generate(options, values.database!)
console.log(JSON.stringify(info, null, 2))
