/**
 * What every command line (bin/, bench/) does the same way: `--help` prints its usage and exits 0;
 * an unknown option, a stray argument or a bad value prints what is wrong and the usage line and
 * exits 2; a bad environment or an unreachable database is one message without a stack trace.
 * Exit codes: 0 done, 1 failed (or found a problem; a schema behind the code), 2 usage or
 * configuration, 3 a database unreachable.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { ConfigError } from './config.ts'
import { MigrationError } from './db/migrate.ts'
import { TierUnavailableError } from './db/tiers.ts'
import { errorLine } from './error-summary.ts'

export interface Cli {
  /** The command as a user types it, for messages: `migrate`, `bench`. */
  name: string
  /** The whole --help text; its first line is the usage line shown with a mistake. */
  usage: string
}

/** A mistake in how the command was called: shown with the usage line, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

const usageLine = (cli: Cli) => cli.usage.split('\n')[0]!

function refuse(cli: Cli, problem: string): never {
  console.error(`${cli.name}: ${problem}\n${usageLine(cli)}\n(--help for more)`)
  process.exit(2)
}

/** Parses argv strictly against `options` (plus --help/-h); positionals only when allowed. */
export function commandLine<const O extends ParseArgsOptionsConfig>(
  cli: Cli,
  options: O,
  { positionals = false, args = process.argv.slice(2) }: { positionals?: boolean; args?: string[] } = {},
) {
  const config = { args, options: { ...options, help: { type: 'boolean', short: 'h' } as const }, allowPositionals: positionals, strict: true as const }
  let parsed: ReturnType<typeof parseArgs<typeof config>>
  try {
    parsed = parseArgs(config)
  } catch (err) {
    // Node's hint about positionals that start with '-' is noise next to the usage line.
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) refuse(cli, (err as Error).message.replace(/\. To specify a positional[\s\S]*$/, ''))
    throw err
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(cli.usage)
    process.exit(0)
  }
  return parsed
}

/** An option's value as an integer of at least `min`, or the fallback when it was not given. */
export function intOption(name: string, value: string | boolean | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (typeof value !== 'string' || !Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer of at least ${min}, not ${JSON.stringify(value)}`)
  }
  return n
}

/**
 * Runs a command's body and exits with its code. Usage mistakes, configuration and unreachable
 * databases are one line each; anything else is the error's summary (no values a driver echoes)
 * and where it happened.
 */
export async function runCommand(cli: Cli, main: () => Promise<number | void>): Promise<never> {
  try {
    process.exit((await main()) ?? 0)
  } catch (err) {
    exitOnError(cli, err)
  }
}

/** How a command (or a long-running process that failed to start) ends on an error. */
export function exitOnError(cli: Cli, err: unknown): never {
  if (err instanceof UsageError) refuse(cli, err.message)
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(2)
  }
  if (err instanceof TierUnavailableError) {
    console.error(`${cli.name}: ${err.message}`)
    process.exit(3)
  }
  if (err instanceof MigrationError) {
    console.error(`${cli.name}: ${err.message}`)
    process.exit(1)
  }
  console.error(`${cli.name}: failed: ${errorLine(err)}`)
  if (err instanceof Error && err.stack) console.error(err.stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 5).join('\n'))
  process.exit(1)
}
