/**
 * What every CLI shares (scripts/*.mts and the modules they are thin over): the streams, strict argument parsing
 * with node:util parseArgs, usage errors and one exit-status rule:
 *
 *   0  done
 *   1  failed (the reason on stderr; what was done before the failure is said)
 *   2  usage or bad input (unknown option or command, bad value, bad configuration): nothing changed
 *
 * One documented exception: `create-accounts` exits 75 (EX_TEMPFAIL) when some jobs wait for a later try.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { terminalIo } from './terminal.js';

export const EXIT = { done: 0, failed: 1, usage: 2, tempFail: 75 } as const;

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Record<string, string | undefined>;
}

/** The process's streams; every line passes through terminalLines (no control or format character reaches the terminal). */
export const processIo: CliIo = terminalIo({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
});

/** Wrong arguments or input: the CLI prints the message (with its usage, see runCli) and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with strict options and positionals allowed; an unknown option or a missing or unwanted value is a
 * UsageError naming the option as typed (`unknown option --bogus`; `words.unknown` replaces the first two words).
 */
export function parseCliArgs<const O extends Options>(
  args: readonly string[],
  options: O,
  words: { readonly unknown?: string } = {},
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw error;
    // Parsed again leniently only to name the offending option exactly as typed.
    const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
    for (const token of tokens) {
      if (token.kind !== 'option') continue;
      const option = options[token.name];
      if (option === undefined) throw new UsageError(`${words.unknown ?? 'unknown option'} ${token.rawName}`);
      if (option.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      if (option.type === 'boolean' && token.value !== undefined)
        throw new UsageError(`${token.rawName} takes no value`);
    }
    throw new UsageError((error as Error).message);
  }
}

/** What a runCli body returns to end with a status other than 0 although nothing failed (create-accounts' 75). */
export class ExitStatus {
  constructor(readonly code: number) {}
}

/**
 * Runs a CLI body: 0 when it ends (or the ExitStatus it returns; any other value is ignored, so a body may
 * `return io.out(...)`), 2 with the usage on UsageError, 1 with a one-line reason on any other error.
 */
export async function runCli(io: CliIo, name: string, usage: string, body: () => unknown): Promise<number> {
  try {
    const result = await body();
    return result instanceof ExitStatus ? result.code : EXIT.done;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${name}: ${error.message}\n\n${usage}`);
      return EXIT.usage;
    }
    io.err(`${name}: ${(error as Error).message}`);
    return EXIT.failed;
  }
}
