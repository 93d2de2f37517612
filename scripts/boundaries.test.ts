import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The import boundaries of biome.json (which workspace may import which; README "Development") fire: each case
 * plants a file with one import inside a workspace, lints it the way `npm test` does, and removes it.
 * The allowed imports next to them must stay quiet, so a rule that matched everything would fail too.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIOME = fileURLToPath(new URL('../node_modules/@biomejs/biome/bin/biome', import.meta.url));
const RULE = 'lint/style/noRestrictedImports';
const tag = randomBytes(4).toString('hex');

interface Case {
  readonly what: string;
  /** Folder of the planted file, from the repository root. */
  readonly dir: string;
  readonly test?: boolean;
  readonly from: string;
  /** A part of the rule's message; null: the import is allowed. */
  readonly refused: string | null;
}

const cases: readonly Case[] = [
  {
    what: 'rules imports db',
    dir: 'packages/rules/src',
    from: '@kikimimi/db',
    refused: 'imports nothing of ours',
  },
  {
    what: 'rules imports the stand-ins in a test',
    dir: 'packages/rules/src',
    test: true,
    from: '@kikimimi/sandbox',
    refused: 'imports nothing of ours',
  },
  {
    what: 'connectors import db',
    dir: 'packages/connectors/src/x',
    from: '@kikimimi/db',
    refused: 'rules only',
  },
  {
    what: 'a connector imports the stand-ins',
    dir: 'packages/connectors/src/mastodon',
    from: '@kikimimi/sandbox',
    refused: 'never imports the stand-in',
  },
  {
    what: 'the desk imports the worker',
    dir: 'packages/desk/src',
    from: '@kikimimi/worker',
    refused: 'knows no platform and no app',
  },
  {
    what: 'the desk imports a platform client',
    dir: 'packages/desk/src',
    from: 'discord.js',
    refused: 'Discord and the console are its front-ends',
  },
  {
    what: 'the runtime imports the desk',
    dir: 'packages/runtime/src',
    from: '@kikimimi/desk',
    refused: 'may use @kikimimi/db only',
  },
  {
    what: 'the runtime reads the key with db (allowed)',
    dir: 'packages/runtime/src',
    from: '@kikimimi/db',
    refused: null,
  },
  {
    what: 'the desk stores with db (allowed)',
    dir: 'packages/desk/src',
    from: '@kikimimi/db',
    refused: null,
  },
  {
    what: 'db imports a connector',
    dir: 'packages/db/src',
    from: '@kikimimi/connectors',
    refused: 'no platform',
  },
  {
    what: 'db imports a platform client',
    dir: 'packages/db/src',
    from: 'twitter-api-v2',
    refused: 'no platform',
  },
  {
    what: 'db imports Discord',
    dir: 'packages/db/src/repositories',
    from: 'discord.js',
    refused: 'no platform',
  },
  { what: 'db imports the queue', dir: 'packages/db/src', from: 'bullmq', refused: 'knows no queue' },
  {
    what: 'a package imports an app',
    dir: 'packages/sandbox/src',
    from: '@kikimimi/worker',
    refused: 'never import apps',
  },
  {
    what: 'the console imports the worker',
    dir: 'apps/web/src/routes',
    from: '@kikimimi/worker',
    refused: 'never imports the worker',
  },
  {
    what: 'the console imports the stand-ins',
    dir: 'apps/web/src',
    from: '@kikimimi/sandbox',
    refused: 'stand-in',
  },
  {
    what: 'the worker imports the stand-ins',
    dir: 'apps/worker/src',
    from: '@kikimimi/sandbox',
    refused: 'stand-in',
  },
  {
    what: 'the CLI imports the stand-ins outside the demo',
    dir: 'apps/cli/src',
    from: '@kikimimi/sandbox',
    refused: 'stand-in',
  },
  {
    what: 'a deep import of a package',
    dir: 'apps/worker/src',
    from: '@kikimimi/db/src/schema.ts',
    refused: 'internals',
  },
  {
    what: 'a relative import into another workspace',
    dir: 'apps/web/bench',
    from: '../../../packages/db/src/repositories/stats.ts',
    refused: 'internals',
  },
  {
    what: 'pipeline/ imports discord/',
    dir: 'apps/worker/src/pipeline',
    from: '../discord/port.ts',
    refused: 'notifier port',
  },
  // Allowed: each next to a refusal above.
  { what: 'connectors import rules', dir: 'packages/connectors/src', from: '@kikimimi/rules', refused: null },
  {
    what: 'a connector test imports the stand-ins',
    dir: 'packages/connectors/src/x',
    test: true,
    from: '@kikimimi/sandbox',
    refused: null,
  },
  { what: 'db imports rules', dir: 'packages/db/src', from: '@kikimimi/rules', refused: null },
  { what: 'the console imports db', dir: 'apps/web/src', from: '@kikimimi/db', refused: null },
  {
    what: "the CLI's demo world imports the stand-ins",
    dir: 'apps/cli/src/demo',
    from: '@kikimimi/sandbox',
    refused: null,
  },
  {
    what: 'worker tests import the stand-ins',
    dir: 'apps/worker/test',
    from: '@kikimimi/sandbox',
    refused: null,
  },
  {
    what: 'a package subpath export',
    dir: 'packages/connectors/bench',
    from: '@kikimimi/rules/bench-world',
    refused: null,
  },
  {
    what: 'discord/ imports pipeline/',
    dir: 'apps/worker/src/discord',
    from: '../pipeline/deps.ts',
    refused: null,
  },
];

const planted = cases.map((c, i) => ({
  ...c,
  file: `${c.dir}/planted-boundary-${tag}-${i}${c.test ? '.test' : ''}.ts`,
}));
let output = '';
let exitCode: number | null = null;

beforeAll(async () => {
  for (const p of planted) {
    await writeFile(`${ROOT}/${p.file}`, `import { planted } from '${p.from}';\n\nexport { planted };\n`);
  }
  const run = spawnSync(
    process.execPath,
    [BIOME, 'lint', '--colors=off', '--max-diagnostics=none', ...planted.map((p) => p.file)],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  output = `${run.stdout}\n${run.stderr}`;
  exitCode = run.status;
});

afterAll(async () => {
  await Promise.all(planted.map((p) => rm(`${ROOT}/${p.file}`, { force: true })));
});

/** The diagnostics biome printed for one planted file: its header line and the message under it. */
function diagnosticsOf(file: string): string[] {
  const lines = output.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith(`${file}:`)) found.push(`${line}\n${lines.slice(i + 1, i + 4).join('\n')}`);
  });
  return found;
}

describe('import boundaries (biome noRestrictedImports, run by npm test)', () => {
  it('lints every planted file and fails the run', () => {
    expect(output).toContain(`Checked ${planted.length} files`);
    expect(exitCode).not.toBe(0);
  });

  it.each(planted.filter((p) => p.refused !== null))('refuses: $what ($file)', (p) => {
    const diagnostics = diagnosticsOf(p.file);
    expect(diagnostics, output).toHaveLength(1);
    expect(diagnostics[0]).toContain(RULE);
    expect(diagnostics[0]).toContain(p.refused);
  });

  it.each(planted.filter((p) => p.refused === null))('allows: $what ($file)', (p) => {
    expect(diagnosticsOf(p.file)).toEqual([]);
  });
});
