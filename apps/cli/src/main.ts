import { dryRunCommand } from './dry-run.ts';
import { type Command, type CommandIo, UsageError } from './io.ts';
import { migrateCommand } from './migrate.ts';
import { startCommand } from './start.ts';
import { webCommand } from './web.ts';
import { workerCommand } from './worker.ts';

const COMMANDS: readonly Command[] = [startCommand, webCommand, workerCommand, migrateCommand, dryRunCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'kikimimi — an active-support desk for social media',
    '',
    'Usage: kikimimi <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `kikimimi <command> --help` for the options of a command.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`kikimimi: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`kikimimi ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * Runs the CLI as a process. A closed stdout (`kikimimi dry-run … | head`) ends the run quietly
 * instead of crashing with EPIPE.
 */
export async function main(): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCli(process.argv.slice(2), process);
}

if (import.meta.main) await main();
