import { parseArgs } from 'node:util';

/** The streams a command talks to; passed in so commands run the same in tests and in a terminal. */
export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A subcommand of `kikimimi`: returns the process exit code. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

/** Thrown for wrong command-line usage; printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * For commands that take no arguments but `--help`/`-h`: prints the usage and returns true when asked
 * for it; UsageError for anything else.
 */
export function printedHelp(args: readonly string[], usage: string, io: CommandIo): boolean {
  let help = false;
  try {
    help =
      parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' } } }).values.help === true;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (help) io.stdout.write(`${usage}\n`);
  return help;
}
