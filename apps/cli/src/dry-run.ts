import { createReadStream } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  type ContactRecord,
  contactRecordSchema,
  type DecisionContext,
  formatPath,
  loadConfig,
  postSchema,
} from '@kikimimi/rules';
import { type Command, type CommandIo, UsageError } from './io.ts';

const USAGE = `Usage: kikimimi dry-run --config FILE [POSTS.jsonl]

Reads normalised posts, one JSON object a line (from POSTS.jsonl, or standard input when no file is
given), and prints one decision a line as JSON: the watches matched, the intent and the signals that
fired, the suggested category with the rendered reply and its length, the route, the escalations and
any suppression reason.

Options:
  --config FILE     the configuration (JSON, the format the web console imports and exports)
  --now ISO         the clock for age and cooldown rules (default: the current time)
  --contacts FILE   earlier contacts, one JSON object a line: {"platform","authorId","handle","at"}
  --all             also print a line for posts that match no watch ({"matched":false,...})
  -h, --help        show this help

Exit status: 0 all posts decided; 1 some post lines were bad (each reported on stderr with its line
number, the others still decided); 2 bad usage or a bad configuration (every problem listed, nothing
decided).`;

function describeJsonError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readJsonLines(
  stream: NodeJS.ReadableStream,
  onLine: (value: unknown, line: number) => void,
  onError: (message: string, line: number) => void,
): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      onError(`not valid JSON: ${describeJsonError(error)}`, number);
      continue;
    }
    onLine(value, number);
  }
}

async function readContacts(file: string, io: CommandIo): Promise<ContactRecord[] | undefined> {
  const contacts: ContactRecord[] = [];
  let bad = false;
  await readJsonLines(
    createReadStream(file),
    (value, line) => {
      const parsed = contactRecordSchema.safeParse(value);
      if (parsed.success) contacts.push(parsed.data);
      else {
        bad = true;
        for (const issue of parsed.error.issues) {
          io.stderr.write(`${file}:${line}: ${formatPath(issue.path)}: ${issue.message}\n`);
        }
      }
    },
    (message, line) => {
      bad = true;
      io.stderr.write(`${file}:${line}: ${message}\n`);
    },
  );
  return bad ? undefined : contacts;
}

async function dryRun(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        now: { type: 'string' },
        contacts: { type: 'string' },
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(describeJsonError(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.config === undefined) throw new UsageError('--config FILE is required');
  if (positionals.length > 1)
    throw new UsageError(`expected at most one posts file, got ${positionals.length}`);
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime()))
    throw new UsageError(
      `--now "${values.now}" is not a date (use ISO 8601, e.g. 2026-11-24T09:00:00+09:00)`,
    );

  let raw: string;
  try {
    raw = await readFile(values.config, 'utf8');
  } catch (error) {
    io.stderr.write(`${values.config}: cannot read the configuration: ${describeJsonError(error)}\n`);
    return 2;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    io.stderr.write(`${values.config}: not valid JSON: ${describeJsonError(error)}\n`);
    return 2;
  }
  const loaded = loadConfig(json);
  if (!loaded.ok) {
    io.stderr.write(`${values.config}: ${loaded.problems.length} problem(s); nothing was decided.\n`);
    for (const problem of loaded.problems) {
      const at = problem.offset === undefined ? '' : ` (at character ${problem.offset})`;
      io.stderr.write(`  ${problem.path}${at}: ${problem.message}\n`);
    }
    return 2;
  }

  let contactHistory: ContactRecord[] = [];
  if (values.contacts !== undefined) {
    const contacts = await readContacts(values.contacts, io).catch((error: unknown) => {
      io.stderr.write(`${values.contacts}: cannot read contacts: ${describeJsonError(error)}\n`);
      return undefined;
    });
    if (contacts === undefined) return 2;
    contactHistory = contacts;
  }
  const context: DecisionContext = { now, contactHistory };

  const source = positionals[0];
  const name = source ?? 'stdin';
  let input: NodeJS.ReadableStream = io.stdin;
  if (source !== undefined) {
    try {
      await access(source, constants.R_OK);
    } catch (error) {
      io.stderr.write(`${source}: cannot read posts: ${describeJsonError(error)}\n`);
      return 2;
    }
    input = createReadStream(source);
  }
  let badLines = 0;
  await readJsonLines(
    input,
    (value, line) => {
      const post = postSchema.safeParse(value);
      if (!post.success) {
        badLines++;
        const detail = post.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
        io.stderr.write(`${name}:${line}: not a post: ${detail}\n`);
        return;
      }
      const decision = loaded.engine.decide(post.data, context);
      if (decision.matched || values.all) io.stdout.write(`${JSON.stringify({ line, ...decision })}\n`);
    },
    (message, line) => {
      badLines++;
      io.stderr.write(`${name}:${line}: ${message}\n`);
    },
  );
  if (badLines > 0) {
    io.stderr.write(`${name}: ${badLines} bad line(s) skipped; the others were decided.\n`);
    return 1;
  }
  return 0;
}

export const dryRunCommand: Command = {
  name: 'dry-run',
  summary: 'decide posts from a file or stdin with a configuration, without touching any platform',
  usage: USAGE,
  run: dryRun,
};
